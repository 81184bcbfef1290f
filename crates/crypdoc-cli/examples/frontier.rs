//! Plots a model's accuracy/cost frontier from its recorded measurements:
//! `cargo run -p crypdoc-cli --example frontier -- models/crypdoc-binary-v2.frontier.json
//! models/crypdoc-binary-v2.frontier.png`. Each row's cost is shown relative to the shipped
//! model timed in the same run, because runs were made under different machine load.

use anyhow::Context as _;
use plotters::prelude::*;
use plotters::style::FontStyle;
use serde::Deserialize;
use std::path::Path;

/// The bundled report font (Bitstream Vera licence, `crates/crypdoc-model/assets`).
static FONT: &[u8] =
    include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../crypdoc-model/assets/DejaVuSans.ttf"));
const FONT_NAME: &str = "crypdoc-frontier-dejavu-sans";

#[derive(Debug, Deserialize)]
struct Frontier {
    rows: Vec<Row>,
}

#[derive(Debug, Deserialize)]
struct Row {
    input_px: u32,
    hidden: u32,
    epochs: u32,
    br35h: f64,
    nickparvar: f64,
    pooled: f64,
    ms: f64,
    reference_ms: f64,
    #[serde(default)]
    shipped: bool,
}

impl Row {
    fn relative_cost(&self) -> f64 {
        self.ms / self.reference_ms
    }
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, input, output] = &args[..] else {
        anyhow::bail!("usage: frontier POINTS.json OUT.png");
    };
    let text = std::fs::read_to_string(input).with_context(|| format!("cannot read {input}"))?;
    let frontier: Frontier =
        serde_json::from_str(&text).with_context(|| format!("{input} is not a frontier file"))?;
    anyhow::ensure!(!frontier.rows.is_empty(), "{input} has no rows");
    anyhow::ensure!(
        frontier.rows.iter().all(|row| row.ms > 0.0 && row.reference_ms > 0.0),
        "{input}: every row needs positive ms and reference_ms"
    );
    plotters::style::register_font(FONT_NAME, FontStyle::Normal, FONT)
        .map_err(|_| anyhow::anyhow!("the bundled font does not parse"))?;
    let png = draw(&frontier.rows)?;
    crypdoc_fs::write(Path::new(output), &png).with_context(|| format!("cannot write {output}"))?;
    eprintln!("{} rows -> {output}", frontier.rows.len());
    Ok(())
}

/// A plotted accuracy: its name, colour and which of a row's figures it is.
type Series = (&'static str, RGBColor, fn(&Row) -> f64);

fn draw(rows: &[Row]) -> anyhow::Result<Vec<u8>> {
    let (w, h) = (900u32, 560u32);
    let mut buffer = vec![0u8; (w * h * 3) as usize];
    {
        let fail = |e: &dyn std::fmt::Debug| anyhow::anyhow!("drawing the frontier: {e:?}");
        let root = BitMapBackend::with_buffer(&mut buffer, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(&e))?;
        let costs = rows.iter().map(Row::relative_cost);
        let x_max = costs.fold(1.0_f64, f64::max) * 1.1;
        let accuracies = rows.iter().flat_map(|r| [r.br35h, r.nickparvar, r.pooled]);
        let y_min = (accuracies.fold(1.0_f64, f64::min) * 100.0 - 0.5).floor();
        let mut chart = ChartBuilder::on(&root)
            .caption("Two-source yes/no model: validation accuracy against encrypted cost", (FONT_NAME, 22))
            .margin(16)
            .x_label_area_size(50)
            .y_label_area_size(60)
            .build_cartesian_2d(0.8..x_max, y_min..97.5)
            .map_err(|e| fail(&e))?;
        chart
            .configure_mesh()
            .x_desc("encrypted cost per scan, relative to the shipped model timed in the same run")
            .y_desc("validation accuracy (%)")
            .label_style((FONT_NAME, 14))
            .axis_desc_style((FONT_NAME, 16))
            .draw()
            .map_err(|e| fail(&e))?;
        chart
            .draw_series([PathElement::new(vec![(0.8, 96.0), (x_max, 96.0)], BLACK.mix(0.4))])
            .map_err(|e| fail(&e))?
            .label("target 96% per source")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.mix(0.4)));
        let series: [Series; 3] = [
            ("Br35H", RED, |r| r.br35h),
            ("Nickparvar", BLUE, |r| r.nickparvar),
            ("pooled", BLACK, |r| r.pooled),
        ];
        for (name, color, accuracy) in series {
            chart
                .draw_series(rows.iter().map(|row| {
                    let at = (row.relative_cost(), accuracy(row) * 100.0);
                    let size = if row.shipped { 7 } else { 4 };
                    Circle::new(at, size, color.filled())
                }))
                .map_err(|e| fail(&e))?
                .label(name)
                .legend(move |(x, y)| Circle::new((x + 10, y), 4, color.filled()));
        }
        chart
            .draw_series(rows.iter().map(|row| {
                let label = format!(
                    "{} px / {} units{}{}",
                    row.input_px,
                    row.hidden,
                    if row.epochs == 60 { String::new() } else { format!(" / {} ep", row.epochs) },
                    if row.shipped { " (shipped)" } else { "" }
                );
                Text::new(label, (row.relative_cost() + 0.01, row.pooled * 100.0 - 0.12), (FONT_NAME, 12))
            }))
            .map_err(|e| fail(&e))?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .label_font((FONT_NAME, 14))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()
            .map_err(|e| fail(&e))?;
        root.present().map_err(|e| fail(&e))?;
    }
    let image = image::RgbImage::from_raw(w, h, buffer).context("frontier buffer size")?;
    let mut png = std::io::Cursor::new(Vec::new());
    image.write_to(&mut png, image::ImageFormat::Png).context("encoding the frontier PNG")?;
    Ok(png.into_inner())
}
