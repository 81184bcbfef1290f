//! Files that are not whole scans are refused with a named error, never classified: fixtures
//! are cut, corrupted, shrunk or inflated from a shipped sample scan inside each test.

use crypdoc_model::preprocess::{MAX_SIDE, MIN_SIDE};
use crypdoc_model::{error_chain, preprocess_bytes, preprocess_file, InputSpec, PreprocessError, ScanFormat};
use image::{GrayImage, ImageFormat};
use std::io::Cursor;
use std::path::{Path, PathBuf};

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/br35h/yes/y2.jpg")
}

fn encode(image: &GrayImage, format: ImageFormat) -> Vec<u8> {
    let mut bytes = Vec::new();
    image.write_to(&mut Cursor::new(&mut bytes), format).unwrap();
    bytes
}

/// A head-like test image: a bright ellipse on black.
fn head(width: u32, height: u32) -> GrayImage {
    GrayImage::from_fn(width, height, |x, y| {
        let (dx, dy) = (
            (f64::from(x) - f64::from(width) / 2.0) / (f64::from(width) * 0.4),
            (f64::from(y) - f64::from(height) / 2.0) / (f64::from(height) * 0.4),
        );
        image::Luma([if dx * dx + dy * dy < 1.0 { 180 } else { 0 }])
    })
}

#[test]
fn truncated_jpegs_are_refused_at_every_cut() {
    let whole = std::fs::read(sample()).unwrap();
    let spec = InputSpec::default();
    preprocess_bytes(&whole, spec).unwrap();
    // The first 3 KB used to come out as "no tumor, 99.6%".
    let err = preprocess_bytes(&whole[..3072], spec).unwrap_err();
    assert!(matches!(err, PreprocessError::Truncated { format: ScanFormat::Jpeg, .. }), "{err}");
    assert!(err.to_string().contains("JPEG file is truncated"), "{err}");
    for cut in (4..whole.len() - 1).step_by(whole.len() / 37) {
        assert!(
            matches!(preprocess_bytes(&whole[..cut], spec), Err(PreprocessError::Truncated { .. })),
            "cut at {cut} of {}",
            whole.len()
        );
    }
    // Only the final FFD9 missing.
    assert!(matches!(
        preprocess_bytes(&whole[..whole.len() - 2], spec),
        Err(PreprocessError::Truncated { .. })
    ));
    // Bytes after the end marker are allowed (some writers append metadata).
    let mut trailing = whole;
    trailing.extend_from_slice(b"trailer");
    preprocess_bytes(&trailing, spec).unwrap();
}

#[test]
fn corrupt_jpeg_structure_is_refused() {
    let mut whole = std::fs::read(sample()).unwrap();
    // The byte after the first segment should start the next marker.
    let next = 4 + usize::from(u16::from_be_bytes([whole[4], whole[5]]));
    whole[next] = 0x00;
    let err = preprocess_bytes(&whole, InputSpec::default()).unwrap_err();
    assert!(
        matches!(err, PreprocessError::Corrupt { format: ScanFormat::Jpeg, offset, .. } if offset == next),
        "{err}"
    );
}

#[test]
fn truncated_and_corrupt_pngs_are_refused() {
    let png = encode(&head(200, 160), ImageFormat::Png);
    let spec = InputSpec::default();
    preprocess_bytes(&png, spec).unwrap();
    for cut in [20, 40, png.len() / 2, png.len() - 12, png.len() - 1] {
        let err = preprocess_bytes(&png[..cut], spec).unwrap_err();
        assert!(
            matches!(err, PreprocessError::Truncated { format: ScanFormat::Png, .. }),
            "cut {cut}: {err}"
        );
    }
    // A flipped bit inside the image data: the chunk CRC no longer matches.
    let mut flipped = png;
    let idat = flipped.windows(4).position(|w| w == b"IDAT").unwrap();
    flipped[idat + 10] ^= 0x40;
    let err = preprocess_bytes(&flipped, spec).unwrap_err();
    assert!(matches!(err, PreprocessError::Decode { format: ScanFormat::Png, .. }), "{err}");
    // The decoder's reason is the source, not repeated in the message.
    assert_eq!(err.to_string(), "cannot decode the PNG image");
    assert!(error_chain(&err).len() > err.to_string().len());
}

#[test]
fn too_small_images_are_refused() {
    let spec = InputSpec::default();
    for (w, h) in [(MIN_SIDE - 1, 200), (200, 40), (16, 16)] {
        for format in [ImageFormat::Png, ImageFormat::Jpeg] {
            let err = preprocess_bytes(&encode(&head(w, h), format), spec).unwrap_err();
            assert!(
                matches!(err, PreprocessError::TooSmall { width, height, min: MIN_SIDE } if (width, height) == (w, h)),
                "{w}x{h}: {err}"
            );
        }
    }
    preprocess_bytes(&encode(&head(MIN_SIDE, MIN_SIDE), ImageFormat::Png), spec).unwrap();
}

/// A PNG that declares `width x height` in its header with almost no data: the decoder must
/// refuse it before allocating the pixels.
fn bomb(width: u32, height: u32) -> Vec<u8> {
    let mut png = encode(&head(64, 64), ImageFormat::Png);
    // IHDR data starts at byte 16: width, height (big-endian); its CRC follows the 13 bytes.
    png[16..20].copy_from_slice(&width.to_be_bytes());
    png[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for b in bytes {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

#[test]
fn decompression_bombs_are_refused_before_decoding() {
    let spec = InputSpec::default();
    for (w, h) in [(100_000, 100_000), (MAX_SIDE + 1, 200), (200, u32::MAX >> 1)] {
        let err = preprocess_bytes(&bomb(w, h), spec).unwrap_err();
        assert!(
            matches!(err, PreprocessError::TooLarge { width, height, max: MAX_SIDE } if (width, height) == (w, h)),
            "{w}x{h}: {err}"
        );
    }
}

#[test]
fn other_files_and_io_errors_name_their_cause_once() {
    let spec = InputSpec::default();
    assert!(matches!(preprocess_bytes(b"GIF89a....", spec), Err(PreprocessError::UnsupportedFormat)));
    assert!(matches!(preprocess_bytes(b"", spec), Err(PreprocessError::Empty)));
    let err = preprocess_file(Path::new("/nonexistent/scan.jpg"), spec).unwrap_err();
    assert!(matches!(err, PreprocessError::Io(_)));
    let chain = error_chain(&err);
    assert_eq!(chain.matches("No such file").count(), 1, "{chain}");
}
