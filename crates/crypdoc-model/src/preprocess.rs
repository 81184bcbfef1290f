//! From a scan file to the model's input pixels.
//!
//! The steps, identical in training, evaluation, prediction and the hospital node:
//!
//! 1. decode JPEG or PNG and convert to 8-bit grayscale (RGB-encoded grayscale is common);
//! 2. crop to the head: the bounding box of the rows and columns in which at least 2% of the
//!    pixels are brighter than [`HEAD_THRESHOLD`] (black borders of any size and stray text or
//!    markers in a corner do not count); an image with no such row or column is rejected;
//! 3. pad the box with black to a square, centred, so the head keeps its aspect ratio;
//! 4. resize to `input_size` x `input_size` with a triangle (bilinear, area-widened) filter;
//! 5. normalise contrast: divide by the 99th percentile of the resized pixels (clamped to 1);
//! 6. quantise to `0..2^input_bits` by rounding `v * (2^input_bits - 1)`.

use image::{imageops::FilterType, GrayImage};

/// A pixel brighter than this (of 255) is part of the head, not the border.
pub const HEAD_THRESHOLD: u8 = 20;
/// A row or column belongs to the head when at least this fraction of its pixels is brighter
/// than [`HEAD_THRESHOLD`].
pub const HEAD_MIN_FRACTION: f64 = 0.02;

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

/// A file that cannot become a model input.
#[derive(Debug, thiserror::Error)]
pub enum PreprocessError {
    /// Empty file.
    #[error("empty file")]
    Empty,
    /// Not a decodable JPEG or PNG.
    #[error("cannot decode image: {0}")]
    Decode(#[from] image::ImageError),
    /// Nothing but border.
    #[error("no head found: the image is (almost) black")]
    Blank,
    /// Reading the file failed.
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
}

/// Preprocesses the bytes of a JPEG or PNG file.
pub fn preprocess_bytes(bytes: &[u8], spec: InputSpec) -> Result<Vec<u8>, PreprocessError> {
    if bytes.is_empty() {
        return Err(PreprocessError::Empty);
    }
    let gray = image::load_from_memory(bytes)?.to_luma8();
    preprocess_gray(&gray, spec)
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
        // A bright 20x10 block inside a 100x60 black frame.
        let mut img = GrayImage::new(100, 60);
        for y in 20..30 {
            for x in 30..50 {
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
        assert!(matches!(preprocess_bytes(b"", InputSpec::default()), Err(PreprocessError::Empty)));
        assert!(matches!(
            preprocess_bytes(b"not an image", InputSpec::default()),
            Err(PreprocessError::Decode(_))
        ));
    }
}
