//! From a scan file to the model's input pixels.
//!
//! The steps, identical in training, evaluation, prediction and the hospital node:
//!
//! 0. refuse what is not a whole scan: only JPEG and PNG, read to their end marker (a JPEG's
//!    end-of-image marker after its last scan, a PNG's `IEND` chunk: decoders pad a cut-off file
//!    silently, which would classify a third of a scan as if it were whole), at least
//!    [`MIN_SIDE`] pixels on each side (smaller cannot show a head at the model's resolution),
//!    at most [`MAX_SIDE`] (a decompression bomb declares a huge size in a few bytes; the decoder
//!    also runs under [`image::Limits`] of that size and [`MAX_DECODE_BYTES`]);
//! 1. decode and convert to 8-bit grayscale (RGB-encoded grayscale is common);
//! 2. crop to the head: the bounding box of the rows and columns in which at least 2% of the
//!    pixels are brighter than [`HEAD_THRESHOLD`] (black borders of any size and stray text or
//!    markers in a corner do not count); an image with no such row or column is rejected, and so
//!    is one whose box is smaller than [`MIN_HEAD_SIDE`] on its longer side;
//! 3. pad the box with black to a square, centred, so the head keeps its aspect ratio;
//! 4. resize to `input_size` x `input_size` with a triangle (bilinear, area-widened) filter;
//! 5. normalise contrast: divide by the 99th percentile of the resized pixels (clamped to 1);
//! 6. quantise to `0..2^input_bits` by rounding `v * (2^input_bits - 1)`.

use image::{imageops::FilterType, GrayImage, ImageFormat, ImageReader};
use std::io::Cursor;

/// A pixel brighter than this (of 255) is part of the head, not the border.
pub const HEAD_THRESHOLD: u8 = 20;
/// A row or column belongs to the head when at least this fraction of its pixels is brighter
/// than [`HEAD_THRESHOLD`].
pub const HEAD_MIN_FRACTION: f64 = 0.02;
/// Smallest accepted width and height of a scan, in pixels. The training scans are at least 150
/// pixels on a side; below 64 a head is a handful of pixels per input pixel of a 64x64 model.
pub const MIN_SIDE: u32 = 64;
/// Largest accepted width and height, in pixels (scanners export at most a few thousand).
pub const MAX_SIDE: u32 = 8192;
/// Most memory the decoder may allocate for one scan.
pub const MAX_DECODE_BYTES: u64 = 256 << 20;
/// Smallest longer side of the head's bounding box, in pixels: a few bright pixels in a black
/// image are not a head.
pub const MIN_HEAD_SIDE: u32 = 32;

/// The model input geometry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputSpec {
    /// Side of the square input, in pixels.
    pub size: u32,
    /// Bits per pixel.
    pub bits: u8,
}

impl Default for InputSpec {
    fn default() -> Self {
        Self { size: 32, bits: 4 }
    }
}

impl InputSpec {
    /// The input spec of a model.
    pub fn of(model: &crate::QuantizedModel) -> Self {
        Self { size: model.input_size, bits: model.input_bits }
    }

    /// Largest quantised pixel.
    pub fn max_pixel(self) -> u8 {
        ((1u32 << self.bits) - 1) as u8
    }
}

/// The image formats a scan may come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanFormat {
    /// JPEG (JFIF/Exif, baseline or progressive).
    Jpeg,
    /// PNG.
    Png,
}

impl ScanFormat {
    /// The format of `bytes` by their signature, if it is one of these.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else {
            None
        }
    }

    fn image_format(self) -> ImageFormat {
        match self {
            Self::Jpeg => ImageFormat::Jpeg,
            Self::Png => ImageFormat::Png,
        }
    }
}

impl std::fmt::Display for ScanFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Jpeg => "JPEG",
            Self::Png => "PNG",
        })
    }
}

/// A file that cannot become a model input.
#[derive(Debug, thiserror::Error)]
pub enum PreprocessError {
    /// Empty file.
    #[error("empty file")]
    Empty,
    /// Neither a JPEG nor a PNG signature.
    #[error("not a JPEG or PNG file")]
    UnsupportedFormat,
    /// The file ends before its end marker: cut off in transfer or storage.
    #[error("{format} file is truncated: {detail}")]
    Truncated {
        /// The file's format.
        format: ScanFormat,
        /// Where it ends.
        detail: &'static str,
    },
    /// The file's structure is broken before its end.
    #[error("{format} file is corrupt at byte {offset}: {detail}")]
    Corrupt {
        /// The file's format.
        format: ScanFormat,
        /// Where.
        offset: usize,
        /// What is wrong.
        detail: &'static str,
    },
    /// The declared size is below [`MIN_SIDE`] on some side.
    #[error("image is {width}x{height} pixels: too small to hold a head (at least {min} on each side)")]
    TooSmall {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
        /// [`MIN_SIDE`].
        min: u32,
    },
    /// The declared size is above [`MAX_SIDE`] on some side (a decompression bomb, or not a
    /// scan).
    #[error("image is {width}x{height} pixels: larger than {max} on a side is refused")]
    TooLarge {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
        /// [`MAX_SIDE`].
        max: u32,
    },
    /// The decoder refused the file (including its memory limit).
    #[error("cannot decode the {format} image")]
    Decode {
        /// The file's format.
        format: ScanFormat,
        /// The decoder's error.
        #[source]
        source: image::ImageError,
    },
    /// Nothing but border.
    #[error("no head found: the image is (almost) black")]
    Blank,
    /// The bright region is too small to be a head.
    #[error("no head found: the bright region is {side} pixels across (at least {min} expected)")]
    HeadTooSmall {
        /// Longer side of the bright region's bounding box.
        side: u32,
        /// [`MIN_HEAD_SIDE`].
        min: u32,
    },
    /// Reading the file failed.
    #[error("cannot read the scan file")]
    Io(#[from] std::io::Error),
}

/// Checks that `bytes` hold a whole JPEG or PNG file (see the module docs, step 0) and returns
/// its format.
pub fn check_complete(bytes: &[u8]) -> Result<ScanFormat, PreprocessError> {
    if bytes.is_empty() {
        return Err(PreprocessError::Empty);
    }
    let format = ScanFormat::sniff(bytes).ok_or(PreprocessError::UnsupportedFormat)?;
    match format {
        ScanFormat::Jpeg => check_jpeg(bytes)?,
        ScanFormat::Png => check_png(bytes)?,
    }
    Ok(format)
}

/// Walks a JPEG's markers from SOI to EOI, skipping each segment by its length and each scan's
/// entropy-coded data up to the next marker that is not a stuffed byte or a restart; the file
/// is whole when EOI is reached (bytes after it are allowed: some writers append metadata).
fn check_jpeg(b: &[u8]) -> Result<(), PreprocessError> {
    const FORMAT: ScanFormat = ScanFormat::Jpeg;
    let truncated = |detail| PreprocessError::Truncated { format: FORMAT, detail };
    let corrupt = |offset, detail| PreprocessError::Corrupt { format: FORMAT, offset, detail };
    let mut i = 2;
    loop {
        match b.get(i) {
            None => return Err(truncated("no end-of-image marker (FFD9)")),
            Some(0xFF) => {}
            Some(_) => return Err(corrupt(i, "expected a marker")),
        }
        // Any number of 0xFF fill bytes may precede a marker code.
        while b.get(i) == Some(&0xFF) {
            i += 1;
        }
        let Some(&marker) = b.get(i) else {
            return Err(truncated("no end-of-image marker (FFD9)"));
        };
        i += 1;
        match marker {
            0xD9 => return Ok(()),
            // Standalone markers: restarts and TEM carry no length.
            0xD0..=0xD7 | 0x01 => continue,
            0x00 | 0xD8 => return Err(corrupt(i - 1, "unexpected marker")),
            _ => {}
        }
        let Some(len) = b.get(i..i + 2).map(|l| usize::from(u16::from_be_bytes([l[0], l[1]]))) else {
            return Err(truncated("a segment header is cut off"));
        };
        if len < 2 {
            return Err(corrupt(i, "segment length below 2"));
        }
        if i + len > b.len() {
            return Err(truncated("a segment is cut off"));
        }
        i += len;
        if marker == 0xDA {
            // Entropy-coded data: 0xFF is followed by 0x00 (a stuffed byte), a restart marker,
            // fill, or the next marker.
            loop {
                let Some(ff) = b[i..].iter().position(|v| *v == 0xFF) else {
                    return Err(truncated("the scan data is cut off before the end-of-image marker"));
                };
                let j = i + ff;
                match b.get(j + 1) {
                    None => return Err(truncated("the scan data is cut off before the end-of-image marker")),
                    Some(0x00 | 0xD0..=0xD7) => i = j + 2,
                    Some(_) => {
                        i = j;
                        break;
                    }
                }
            }
        }
    }
}

/// Walks a PNG's chunks to `IEND`; every chunk must fit in the file (the decoder checks their
/// CRCs).
fn check_png(b: &[u8]) -> Result<(), PreprocessError> {
    const FORMAT: ScanFormat = ScanFormat::Png;
    let mut i = 8;
    loop {
        let Some(header) = b.get(i..i + 8) else {
            return Err(PreprocessError::Truncated { format: FORMAT, detail: "no IEND chunk" });
        };
        let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
        if len > 0x7FFF_FFFF {
            return Err(PreprocessError::Corrupt {
                format: FORMAT,
                offset: i,
                detail: "chunk length above 2^31",
            });
        }
        let end = i + 12 + len as usize;
        if end > b.len() {
            return Err(PreprocessError::Truncated { format: FORMAT, detail: "a chunk is cut off" });
        }
        if &header[4..8] == b"IEND" {
            return Ok(());
        }
        i = end;
    }
}

/// Decodes a whole JPEG or PNG file to 8-bit grayscale, refusing sizes outside
/// [`MIN_SIDE`]..=[`MAX_SIDE`] before decoding any pixel.
pub fn decode_gray(bytes: &[u8]) -> Result<GrayImage, PreprocessError> {
    let format = check_complete(bytes)?;
    let decode = |source| PreprocessError::Decode { format, source };
    let (width, height) = ImageReader::with_format(Cursor::new(bytes), format.image_format())
        .into_dimensions()
        .map_err(decode)?;
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(PreprocessError::TooLarge { width, height, max: MAX_SIDE });
    }
    if width < MIN_SIDE || height < MIN_SIDE {
        return Err(PreprocessError::TooSmall { width, height, min: MIN_SIDE });
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format.image_format());
    // Also enforced while decoding, in case a decoder's header and data disagree.
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    Ok(reader.decode().map_err(decode)?.to_luma8())
}

/// Preprocesses the bytes of a JPEG or PNG file.
pub fn preprocess_bytes(bytes: &[u8], spec: InputSpec) -> Result<Vec<u8>, PreprocessError> {
    preprocess_gray(&decode_gray(bytes)?, spec)
}

/// Preprocesses a scan file.
pub fn preprocess_file(path: &std::path::Path, spec: InputSpec) -> Result<Vec<u8>, PreprocessError> {
    preprocess_bytes(&std::fs::read(path)?, spec)
}

/// Steps 2-6 on a decoded grayscale image.
pub fn preprocess_gray(gray: &GrayImage, spec: InputSpec) -> Result<Vec<u8>, PreprocessError> {
    let (w, h) = gray.dimensions();
    if w == 0 || h == 0 {
        return Err(PreprocessError::Blank);
    }
    let mut row_counts = vec![0u32; h as usize];
    let mut col_counts = vec![0u32; w as usize];
    for (x, y, p) in gray.enumerate_pixels() {
        if p.0[0] > HEAD_THRESHOLD {
            row_counts[y as usize] += 1;
            col_counts[x as usize] += 1;
        }
    }
    let span = |counts: &[u32], len: u32| {
        let min = ((f64::from(len) * HEAD_MIN_FRACTION).ceil() as u32).max(1);
        let first = counts.iter().position(|c| *c >= min)?;
        let last = counts.iter().rposition(|c| *c >= min)?;
        Some((first as u32, last as u32))
    };
    let (Some((y0, y1)), Some((x0, x1))) = (span(&row_counts, w), span(&col_counts, h)) else {
        return Err(PreprocessError::Blank);
    };
    let (bw, bh) = (x1 - x0 + 1, y1 - y0 + 1);
    let side = bw.max(bh);
    if side < MIN_HEAD_SIDE {
        return Err(PreprocessError::HeadTooSmall { side, min: MIN_HEAD_SIDE });
    }
    let mut square = GrayImage::new(side, side);
    let (ox, oy) = ((side - bw) / 2, (side - bh) / 2);
    for y in 0..bh {
        for x in 0..bw {
            square.put_pixel(ox + x, oy + y, *gray.get_pixel(x0 + x, y0 + y));
        }
    }
    let small = image::imageops::resize(&square, spec.size, spec.size, FilterType::Triangle);
    let mut sorted: Vec<u8> = small.as_raw().clone();
    sorted.sort_unstable();
    let p99 = f64::from(sorted[(sorted.len() * 99) / 100].max(1));
    let max = f64::from(spec.max_pixel());
    Ok(small.as_raw().iter().map(|v| ((f64::from(*v) / p99).min(1.0) * max).round() as u8).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crops_borders_and_quantises() {
        // A bright 40x20 block inside a 200x120 black frame.
        let mut img = GrayImage::new(200, 120);
        for y in 40..60 {
            for x in 60..100 {
                img.put_pixel(x, y, image::Luma([200]));
            }
        }
        let out = preprocess_gray(&img, InputSpec { size: 8, bits: 4 }).unwrap();
        assert_eq!(out.len(), 64);
        assert!(out.iter().all(|p| *p <= 15));
        // Padded to a square vertically: the middle rows are bright, the top and bottom black.
        assert_eq!(out[8 * 4 + 4], 15);
        assert_eq!(out[0], 0);
        assert_eq!(out[8 * 7 + 4], 0);
        assert!(matches!(
            preprocess_gray(&GrayImage::new(10, 10), InputSpec::default()),
            Err(PreprocessError::Blank)
        ));
        // A 10x10 bright patch in a large black image is not a head.
        let mut speck = GrayImage::new(200, 200);
        for y in 90..100 {
            for x in 90..100 {
                speck.put_pixel(x, y, image::Luma([255]));
            }
        }
        assert!(matches!(
            preprocess_gray(&speck, InputSpec::default()),
            Err(PreprocessError::HeadTooSmall { side: 10, min: MIN_HEAD_SIDE })
        ));
        assert!(matches!(preprocess_bytes(b"", InputSpec::default()), Err(PreprocessError::Empty)));
        assert!(matches!(
            preprocess_bytes(b"not an image", InputSpec::default()),
            Err(PreprocessError::UnsupportedFormat)
        ));
    }

    #[test]
    fn jpeg_walk_accepts_stuffing_restarts_and_trailing_bytes() {
        // SOI, APP0 (length 4), SOS (length 3) with entropy data holding a stuffed byte and a
        // restart, EOI, then trailing bytes.
        let whole = [
            0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0xAA, 0xBB, 0xFF, 0xDA, 0x00, 0x03, 0x01, 0x12, 0xFF, 0x00,
            0x34, 0xFF, 0xD0, 0x56, 0xFF, 0xD9, 0x00, 0x00,
        ];
        check_jpeg(&whole).unwrap();
        for cut in 3..22 {
            assert!(
                matches!(check_jpeg(&whole[..cut]), Err(PreprocessError::Truncated { .. })),
                "cut at {cut}"
            );
        }
        let mut garbage = whole;
        garbage[8] = 0x12;
        assert!(matches!(check_jpeg(&garbage), Err(PreprocessError::Corrupt { offset: 8, .. })));
    }
}
