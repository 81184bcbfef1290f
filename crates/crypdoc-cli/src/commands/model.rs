//! `crypdoc model`: train, evaluate and run the tumor classifier (plaintext).

use anyhow::Context as _;
use clap::{Args, Subcommand, ValueEnum};
use crypdoc_model::metrics::{evaluate_model, Evaluation};
use crypdoc_model::{preprocess_file, Dataset, InputSpec, QuantizedModel, Sample, Split};
use crypdoc_train::{train, TrainConfig};
use serde_json::json;
use std::path::{Path, PathBuf};

use crate::{args::GlobalArgs, output::emit};

/// Model commands.
#[derive(Debug, Subcommand)]
pub(crate) enum ModelCommand {
    /// Train the classifier on a dataset folder (one subfolder per class) and export the
    /// integer model, its config and a training report to `--out`.
    Train(TrainArgs),
    /// Evaluate a model on a dataset folder: metrics as JSON and a PNG report.
    Eval(EvalArgs),
    /// Classify one scan (plaintext): class and calibrated confidence.
    Predict(PredictArgs),
}

#[derive(Debug, Args)]
pub(crate) struct TrainArgs {
    /// Dataset folder laid out like `br35h/` (one subfolder per class, manifest optional).
    /// Repeat it to train on several sources as one dataset (each split by SHA-256): folders
    /// with the same classes merge as they are; Br35H's no/yes beside Nickparvar's four classes
    /// train a no/yes tumor model (notumor = no, the tumor types = yes).
    #[arg(long, required = true)]
    data: Vec<PathBuf>,
    /// Output folder: `model.json` (the integer model), `config.json`, `report.json`, and
    /// `float.json` (the full-precision network, for comparisons).
    #[arg(long)]
    out: PathBuf,
    /// A JSON training config (see `config.json` of a previous run); flags below override it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Random seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Epochs.
    #[arg(long)]
    epochs: Option<usize>,
    /// Hidden sign units (one bootstrap each).
    #[arg(long)]
    hidden: Option<usize>,
}

/// Which images of the folder to evaluate.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum SplitArg {
    /// Every image in the folder.
    All,
    /// Only those whose SHA-256 puts them in the validation split (first hex digit 3 or 4).
    Validation,
    /// Only training-split images (first hex digit 5..f).
    Train,
    /// Only held-back images (first hex digit 0, 1 or 2).
    Holdout,
}

#[derive(Debug, Args)]
pub(crate) struct EvalArgs {
    /// The model file.
    #[arg(long)]
    model: PathBuf,
    /// Dataset folder laid out like `br35h/`.
    #[arg(long)]
    data: PathBuf,
    /// Which images to evaluate (the split is by SHA-256 of the file bytes).
    #[arg(long, value_enum, default_value = "all")]
    split: SplitArg,
    /// PNG report (confusion matrix, ROC curve, reliability diagram, with titles, axes and
    /// counts); defaults to `<model>.eval.png` next to the model file.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Skip the PNG report.
    #[arg(long)]
    no_report: bool,
}

#[derive(Debug, Args)]
pub(crate) struct PredictArgs {
    /// The model file.
    #[arg(long)]
    model: PathBuf,
    /// The scan (JPEG or PNG).
    scan: PathBuf,
    /// Run the model on the encrypted scan (tfhe-rs): encrypt, evaluate with the server key
    /// alone, decrypt; prints the same fields plus timings and sizes.
    #[arg(long)]
    encrypted: bool,
    /// Where the FHE key pair is cached; defaults to `<state-dir>/fhe-keys`.
    #[arg(long)]
    keys: Option<PathBuf>,
    /// With `--encrypted`: have an inference worker (`crypdoc-inference`) evaluate the
    /// ciphertext instead of this process; its server key is registered first if the worker
    /// does not hold it (a 30 MB upload).
    #[arg(long, value_name = "URL", requires = "encrypted", env = "CRYPDOC_WORKER")]
    worker: Option<String>,
}

impl ModelCommand {
    pub(crate) async fn run(self, global: &GlobalArgs) -> anyhow::Result<()> {
        match self {
            Self::Train(args) => args.run(global),
            Self::Eval(args) => args.run(global),
            Self::Predict(args) => args.run(global).await,
        }
    }
}

/// The dataset of one folder, or of several merged (see `--data`).
fn load_dataset(dirs: &[PathBuf], spec: InputSpec) -> anyhow::Result<Dataset> {
    let spinner = indicatif::ProgressBar::new_spinner();
    let shown = dirs.iter().map(|dir| dir.display().to_string()).collect::<Vec<_>>().join(", ");
    spinner.set_message(format!("reading and preprocessing {shown}"));
    spinner.enable_steady_tick(std::time::Duration::from_millis(200));
    let dataset = Dataset::load_sources(dirs, spec);
    spinner.finish_and_clear();
    let dataset = dataset?;
    if !dataset.skipped.is_empty() {
        eprintln!("skipped {} unreadable files (see warnings)", dataset.skipped.len());
    }
    Ok(dataset)
}

impl TrainArgs {
    fn run(self, global: &GlobalArgs) -> anyhow::Result<()> {
        let mut config = match &self.config {
            Some(path) => serde_json::from_str(
                &std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
            )
            .with_context(|| format!("parsing {}", path.display()))?,
            None => TrainConfig::default(),
        };
        if let Some(seed) = self.seed {
            config.seed = seed;
        }
        if let Some(epochs) = self.epochs {
            config.epochs = epochs;
        }
        if let Some(hidden) = self.hidden {
            config.hidden = hidden;
        }
        let spec = InputSpec { size: config.input_size, bits: config.input_bits };
        let dataset = load_dataset(&self.data, spec)?;
        let bar = indicatif::ProgressBar::new(config.epochs as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("training {bar:40} {pos}/{len} epochs {msg} [{elapsed}]")
                .expect("valid template"),
        );
        let trained = train(&dataset, &config, |p| {
            bar.set_position(p.epoch as u64);
            bar.set_message(format!("loss {:.4}", p.loss));
        })?;
        bar.finish_and_clear();
        let model_path = trained.save(&self.out)?;
        let (model, report) = (&trained.model, &trained.report);
        let v = &report.validation;
        emit(
            global.json,
            &json!({
                "model": model_path,
                "model_id": model.model_id,
                "train_count": report.train_count,
                "validation_count": report.validation_count,
                "skipped_count": report.skipped_count,
                "train_seconds": report.train_seconds,
                "float_validation_accuracy": report.float_validation_accuracy,
                "accuracy": v.accuracy,
                "ece": v.ece,
                "roc_auc": v.roc_auc,
                "temperature": report.temperature,
                "near_zero_fraction": v.near_zero_fraction,
            }),
            || {
                format!(
                    "model {} ({})\ntrained on {} images in {:.1} s; validation ({} images): float accuracy {:.4}, integer accuracy {:.4}, AUC {:.4}, ECE {:.4} (T = {:.3}), near-zero pre-activations {:.4}",
                    model_path.display(),
                    model.model_id,
                    report.train_count,
                    report.train_seconds,
                    report.validation_count,
                    report.float_validation_accuracy,
                    v.accuracy,
                    v.roc_auc,
                    v.ece,
                    report.temperature,
                    v.near_zero_fraction
                )
            },
        );
        Ok(())
    }
}

/// Maps the dataset's class indices onto the model's: by name, or, for a `no`/`yes` model, through
/// [`crypdoc_model::tumor_yes_no`] (Nickparvar's `notumor` is `no`, its tumor types `yes`).
fn relabel(model: &QuantizedModel, dataset: &Dataset) -> anyhow::Result<Vec<Sample>> {
    let binary = model.classes == ["no", "yes"];
    let map: Vec<usize> = dataset
        .classes
        .iter()
        .map(|c| {
            let target = if binary { crypdoc_model::tumor_yes_no(c) } else { Some(c.clone()) };
            target.and_then(|t| model.classes.iter().position(|m| *m == t)).with_context(|| {
                format!("dataset class {c:?} is not a model class ({})", model.classes.join(", "))
            })
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(dataset.samples.iter().map(|s| Sample { label: map[s.label], ..s.clone() }).collect())
}

impl EvalArgs {
    fn run(self, global: &GlobalArgs) -> anyhow::Result<()> {
        let model = QuantizedModel::load(&self.model)?;
        let dataset = load_dataset(std::slice::from_ref(&self.data), InputSpec::of(&model))?;
        let samples = relabel(&model, &dataset)?;
        let wanted = match self.split {
            SplitArg::All => None,
            SplitArg::Validation => Some(Split::Validation),
            SplitArg::Train => Some(Split::Train),
            SplitArg::Holdout => Some(Split::Holdout),
        };
        let chosen: Vec<&Sample> = samples.iter().filter(|s| wanted.is_none_or(|w| s.split() == w)).collect();
        anyhow::ensure!(!chosen.is_empty(), "no images to evaluate in {}", self.data.display());
        let eval = evaluate_model(&model, &chosen)?;
        let report = if self.no_report {
            None
        } else {
            let path = self.report.clone().unwrap_or_else(|| self.model.with_extension("eval.png"));
            let title = format!(
                "{} on {} ({} split): accuracy {:.2}%, model {}",
                self.model.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
                self.data.display(),
                format!("{:?}", self.split).to_lowercase(),
                100.0 * eval.accuracy,
                &model.model_id[..12.min(model.model_id.len())]
            );
            draw_report(&eval, &title, &path)?;
            Some(path)
        };
        let mut value = serde_json::to_value(&eval)?;
        if let Some(object) = value.as_object_mut() {
            object.insert("model_id".into(), json!(model.model_id));
            object.insert("skipped".into(), json!(dataset.skipped.len()));
            object.insert("report".into(), json!(report));
        }
        emit(global.json, &value, || {
            let confusion = eval
                .classes
                .iter()
                .zip(&eval.confusion)
                .map(|(c, row)| format!("  actual {c:>6}: {row:?}"))
                .collect::<Vec<_>>()
                .join("\n");
            format!(
                "{} images ({} skipped): accuracy {:.4}, sensitivity {:.4}, specificity {:.4}, ROC AUC {:.4}, ECE {:.4}\nconfusion (predicted {:?}):\n{confusion}{}",
                eval.count,
                dataset.skipped.len(),
                eval.accuracy,
                eval.sensitivity,
                eval.specificity,
                eval.roc_auc,
                eval.ece,
                eval.classes,
                report.map(|p| format!("\nreport: {}", p.display())).unwrap_or_default()
            )
        });
        Ok(())
    }
}

impl PredictArgs {
    async fn run(self, global: &GlobalArgs) -> anyhow::Result<()> {
        let model = QuantizedModel::load(&self.model)?;
        let pixels = preprocess_file(&self.scan, InputSpec::of(&model))
            .with_context(|| format!("cannot use {}", self.scan.display()))?;
        if self.encrypted {
            let keys = self.keys.clone().unwrap_or_else(|| global.state_dir.join("fhe-keys"));
            let value = crate::commands::encrypted::predict_encrypted(
                &model,
                &self.scan,
                &pixels,
                &keys,
                self.worker.as_deref(),
            )
            .await?;
            emit(global.json, &value, || {
                format!(
                    "{}: {} (confidence {:.3}), encrypted: evaluate {:.0} ms{}, upload {} bytes",
                    self.scan.display(),
                    value["class"].as_str().unwrap_or("?"),
                    value["confidence"].as_f64().unwrap_or(0.0),
                    value["timings_ms"]["evaluate"].as_f64().unwrap_or(0.0),
                    self.worker.as_deref().map(|url| format!(" on {url}")).unwrap_or_default(),
                    value["sizes_bytes"]["input"]
                )
            });
            return Ok(());
        }
        let out = model.infer(&pixels)?;
        let (class, confidence) = model.predict(&out.logits);
        let probabilities = model.probabilities(&out.logits);
        emit(
            global.json,
            &json!({
                "scan": self.scan,
                "class": model.classes[class],
                "confidence": confidence,
                "probabilities": model.classes.iter().zip(&probabilities).map(|(c, p)| (c.clone(), json!(p))).collect::<serde_json::Map<_, _>>(),
                "logits": out.logits,
                "model_id": model.model_id,
            }),
            || format!("{}: {} (confidence {:.3})", self.scan.display(), model.classes[class], confidence),
        );
        Ok(())
    }
}

/// The report's font, DejaVu Sans (Bitstream Vera licence, `crates/crypdoc-model/assets/DejaVuSans.LICENSE`):
/// bundled so the PNG has the same text on every machine, with no system font lookup.
static REPORT_FONT: &[u8] =
    include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../crypdoc-model/assets/DejaVuSans.ttf"));
const FONT_NAME: &str = "crypdoc-dejavu-sans";

/// Draws three panels (confusion matrix with counts, ROC curve, reliability diagram with bin
/// counts), each with a title and labelled axes, with plotters' bitmap back end and the bundled
/// font, and saves the PNG.
fn draw_report(eval: &Evaluation, title: &str, path: &Path) -> anyhow::Result<()> {
    use plotters::prelude::*;
    use plotters::style::FontStyle;
    static REGISTERED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let ok = *REGISTERED
        .get_or_init(|| plotters::style::register_font(FONT_NAME, FontStyle::Normal, REPORT_FONT).is_ok());
    anyhow::ensure!(ok, "the bundled report font does not parse");
    const PANEL: u32 = 420;
    const HEADER: u32 = 40;
    let (w, h) = (PANEL * 3, PANEL + HEADER);
    let mut buffer = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buffer, (w, h)).into_drawing_area();
        let fail = |e: &dyn std::fmt::Debug| anyhow::anyhow!("drawing the report: {e:?}");
        root.fill(&WHITE).map_err(|e| fail(&e))?;
        let root = root.titled(title, (FONT_NAME, 22)).map_err(|e| fail(&e))?;
        let panels = root.split_evenly((1, 3));
        let caption = (FONT_NAME, 18);
        let labels = (FONT_NAME, 14);
        let centred = plotters::style::text_anchor::Pos::new(
            plotters::style::text_anchor::HPos::Center,
            plotters::style::text_anchor::VPos::Center,
        );

        // Confusion matrix: cell shade by row fraction, the count and row percentage in it.
        let k = eval.confusion.len().max(1);
        // Room for the longest class name beside the rows (about 8 px a character at 14 px),
        // plus the axis title.
        let longest = eval.classes.iter().map(|c| c.chars().count()).max().unwrap_or(0) as u32;
        let mut chart = ChartBuilder::on(&panels[0])
            .caption(format!("Confusion matrix ({} images)", eval.count), caption)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size((longest * 8 + 30).clamp(70, 140))
            .build_cartesian_2d(0f64..k as f64, 0f64..k as f64)
            .map_err(|e| fail(&e))?;
        let classes = eval.classes.clone();
        let name = move |v: &f64| {
            let i = v.floor() as usize;
            if (v - v.floor() - 0.5).abs() < 1e-6 {
                classes.get(i).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        };
        let flipped = {
            let name = name.clone();
            move |v: &f64| name(&(k as f64 - v))
        };
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(2 * k + 1)
            .y_labels(2 * k + 1)
            .x_label_formatter(&name)
            .y_label_formatter(&flipped)
            .x_desc("predicted")
            .y_desc("actual")
            .label_style(labels)
            .axis_desc_style(labels)
            .draw()
            .map_err(|e| fail(&e))?;
        for (a, row) in eval.confusion.iter().enumerate() {
            let total: usize = row.iter().sum::<usize>().max(1);
            for (p, count) in row.iter().enumerate() {
                let fraction = *count as f64 / total as f64;
                let shade = 255 - (200.0 * fraction) as u8;
                let color = if a == p { RGBColor(shade, 255, shade) } else { RGBColor(255, shade, shade) };
                let (x0, y1) = (p as f64, (k - a) as f64);
                chart
                    .draw_series([
                        Rectangle::new([(x0, y1 - 1.0), (x0 + 1.0, y1)], color.filled()),
                        Rectangle::new([(x0, y1 - 1.0), (x0 + 1.0, y1)], BLACK.stroke_width(1)),
                    ])
                    .map_err(|e| fail(&e))?;
                let centre = |dy: f64| (x0 + 0.5, y1 - 0.5 + dy);
                let style = |size: f64| (FONT_NAME, size).into_font().color(&BLACK).pos(centred);
                chart
                    .draw_series([
                        Text::new(count.to_string(), centre(0.08), style(22.0)),
                        Text::new(format!("{:.1}%", 100.0 * fraction), centre(-0.12), style(14.0)),
                    ])
                    .map_err(|e| fail(&e))?;
            }
        }

        // ROC curve with the chance diagonal.
        let mut chart = ChartBuilder::on(&panels[1])
            .caption(format!("ROC curve (AUC {:.4})", eval.roc_auc), caption)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0f64..1f64, 0f64..1f64)
            .map_err(|e| fail(&e))?;
        chart
            .configure_mesh()
            .x_desc(format!("false positive rate (1 - specificity {:.3})", eval.specificity))
            .y_desc(format!("true positive rate ({} recall)", eval.positive_class))
            .label_style(labels)
            .axis_desc_style(labels)
            .draw()
            .map_err(|e| fail(&e))?;
        chart
            .draw_series([
                PathElement::new(vec![(0.0, 0.0), (1.0, 1.0)], RGBColor(170, 170, 170)),
                PathElement::new(eval.roc.clone(), BLUE.stroke_width(2)),
            ])
            .map_err(|e| fail(&e))?;

        // Reliability diagram: accuracy per confidence bin (bars, with counts) against the
        // diagonal, mean confidence per bin as dots.
        let lowest = eval.reliability.iter().find(|b| b.count > 0).map_or(0.0, |b| b.lower);
        let x0 = (lowest * 10.0).floor() / 10.0;
        let mut chart = ChartBuilder::on(&panels[2])
            .caption(format!("Reliability (ECE {:.4})", eval.ece), caption)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(x0..1f64, 0f64..1.08f64)
            .map_err(|e| fail(&e))?;
        chart
            .configure_mesh()
            .x_desc("confidence (top class, calibrated)")
            .y_desc("accuracy in bin")
            .label_style(labels)
            .axis_desc_style(labels)
            .draw()
            .map_err(|e| fail(&e))?;
        let width = (1.0 - x0) / 100.0;
        for bin in eval.reliability.iter().filter(|b| b.count > 0) {
            chart
                .draw_series([Rectangle::new(
                    [(bin.lower.max(x0) + width, 0.0), (bin.upper - width, bin.accuracy)],
                    RGBColor(100, 150, 230).filled(),
                )])
                .map_err(|e| fail(&e))?;
            chart
                .draw_series([EmptyElement::at((bin.confidence, bin.accuracy.min(1.0)))
                    + Circle::new((0, 0), 3, RED.filled())])
                .map_err(|e| fail(&e))?;
            if bin.upper > x0 {
                let mid = (bin.lower.max(x0) + bin.upper) / 2.0;
                chart
                    .draw_series([Text::new(
                        bin.count.to_string(),
                        (mid, bin.accuracy + 0.05),
                        (FONT_NAME, 12).into_font().color(&BLACK).pos(centred),
                    )])
                    .map_err(|e| fail(&e))?;
            }
        }
        chart.draw_series([PathElement::new(vec![(x0, x0), (1.0, 1.0)], BLACK)]).map_err(|e| fail(&e))?;
        root.present().map_err(|e| fail(&e))?;
    }
    let image = image::RgbImage::from_raw(w, h, buffer).context("report buffer size")?;
    let mut png = std::io::Cursor::new(Vec::new());
    image.write_to(&mut png, image::ImageFormat::Png).context("encoding the report PNG")?;
    crypdoc_fs::write(path, png.get_ref()).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
