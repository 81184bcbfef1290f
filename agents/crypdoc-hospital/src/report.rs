//! The patient report: what the hospital node hands the patient's clinician when a task ends.
//!
//! One [`ReportData`] (the node stores it as JSON) renders to a self-contained HTML page
//! ([`render_html`]) and to a one-page A4 PDF ([`render_pdf`]). Both renderers take their wording
//! from the same helpers, so the two documents never say different things.
//!
//! The PDF is written with `pdf-writer` in the standard PDF fonts (Helvetica, Helvetica-Bold and
//! Courier): every reader has them, so no font file is embedded and no browser is involved. The
//! page is laid out top to bottom with every user-supplied string wrapped and capped, and the
//! limits of the model are pinned to the bottom of the page, so however long the inputs are the
//! report stays one page and the disclaimer is always on it.

use std::fmt::Write as _;

use crypdoc_model::TrainingData;
use pdf_writer::{Content, Date, Name, Pdf, Rect, Ref, Str, TextStr};
use serde::{Deserialize, Serialize};

/// Everything a report says, gathered by the node from its job state and the chain.
///
/// It holds no patient identifier: the scan is known only by the node's id and its CID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportData {
    /// The node's scan id.
    pub scan_id: String,
    /// When the scan was submitted, unix seconds.
    pub submitted_at: u64,
    /// When the task was finalized on chain, unix seconds (`None`: not finalized).
    pub finalized_at: Option<u64>,
    /// The model file's id.
    pub model_id: String,
    /// The model's name, e.g. `br35h-mlp`.
    pub model_name: String,
    /// What the model was trained on, from its file (`None` for a file without it, and for
    /// reports recorded before the field existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training_data: Option<TrainingData>,
    /// Diagnosis names by code, e.g. `["no tumor", "tumor"]`.
    pub code_set: Vec<String>,
    /// The class the model predicted on the encrypted scan.
    pub predicted_class: u8,
    /// The calibrated confidence of that prediction, in basis points.
    pub confidence_bps: u16,
    /// How the task ended.
    pub outcome: ReportOutcome,
    /// The revealed diagnoses, one per revealing doctor.
    pub votes: Vec<u8>,
    /// Seats on the panel.
    pub seats: u8,
    /// Agreeing votes needed to resolve.
    pub quorum: u8,
    /// Seats that revealed their vote.
    pub revealed: u8,
    /// The chain the market lives on.
    pub chain_id: u64,
    /// The market contract's address.
    pub market: String,
    /// The task id in that market.
    pub task_id: String,
    /// The transaction that posted the task.
    pub post_tx: String,
    /// The transaction that finalized it, if any.
    pub finalize_tx: Option<String>,
    /// The CID of the sealed scan on IPFS.
    pub scan_cid: String,
    /// The bounty, formatted with its token, e.g. `82.532 tUSD`.
    pub bounty: String,
}

/// How a task ended, as the market recorded it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ReportOutcome {
    /// A quorum agreed on `diagnosis`; `agreeing` doctors voted for it.
    Resolved {
        /// The panel's diagnosis code.
        diagnosis: u8,
        /// How many revealed votes were for it.
        agreeing: u8,
    },
    /// The votes were revealed but no diagnosis reached the quorum: the bounty went back.
    Unresolved,
    /// The seats did not fill before the fill deadline: the task was cancelled, all refunded.
    Cancelled,
}

// ------------------------------------------------------------------------------------------------
// Wording, shared by both renderers.

const TITLE: &str = "CrypDoc second-opinion report";
const SUBTITLE: &str = "Second opinion on an encrypted brain MRI scan by a blind panel of accredited doctors";
const DISCLAIMER: &str = "CrypDoc is a research tool, not a medical device. The model's \
    prediction and the panel's opinion do not replace the clinician's judgement.";

/// The model card's limits, in the words a clinician needs.
fn limits(data: &ReportData) -> Vec<String> {
    let (trained, data_set) = match &data.training_data {
        Some(t) => (format!("was trained only on {}", t.description), t.name.clone()),
        // A model file that does not say: point to its card rather than guess.
        None => ("was trained on the data its model card describes".to_owned(), "that data".to_owned()),
    };
    vec![
        format!("The model ({}) {trained}.", data.model_name),
        format!(
            "Its confidence is calibrated on its validation split of {data_set} and holds on that \
             data's distribution only, not necessarily for this scanner, protocol or population."
        ),
        "The panel's doctors saw this scan only: no history, no other images, no examination.".to_owned(),
        "This report carries no patient identifier: the scan is known only by its id and CID.".to_owned(),
    ]
}

/// A diagnosis code's name; a code outside the code set is named as such rather than hidden.
fn code_name(data: &ReportData, code: u8) -> String {
    match data.code_set.get(usize::from(code)) {
        Some(name) => name.clone(),
        None => format!("code {code} (not in the code set)"),
    }
}

/// Basis points as a percentage with two decimals, e.g. `82.63%`.
fn percent(bps: u16) -> String {
    format!("{}.{:02}%", bps / 100, bps % 100)
}

/// A unix time as a calendar date and time in UTC.
#[derive(Debug, Clone, Copy)]
struct Utc {
    year: i64,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
}

impl Utc {
    /// Converts with the proleptic Gregorian calendar (H. Hinnant's `civil_from_days`), so
    /// no date crate is needed for one conversion.
    fn from_unix(secs: u64) -> Self {
        // secs / 86400 < 2^48 always fits an i64; the fallback only keeps this panic-free.
        let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX / 2);
        let rem = secs % 86_400;
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        // Every narrowing below is of a value already bounded (month 1..=12, day 1..=31,
        // hour < 24, minute and second < 60).
        Self {
            year,
            month: u8::try_from(month).unwrap_or(1),
            day: u8::try_from(day).unwrap_or(1),
            hour: u8::try_from(rem / 3_600).unwrap_or(0),
            minute: u8::try_from(rem % 3_600 / 60).unwrap_or(0),
            second: u8::try_from(rem % 60).unwrap_or(0),
        }
    }

    /// `2025-03-14 09:26:53 UTC`: unambiguous for a reader anywhere.
    fn human(self) -> String {
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }

    /// RFC 3339, for HTML's `datetime` attribute.
    fn rfc3339(self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }

    fn pdf(self) -> Date {
        // A PDF date has a four-digit year; a later one cannot be written, so it is clamped.
        let year = u16::try_from(self.year.clamp(0, 9_999)).unwrap_or(9_999);
        Date::new(year)
            .month(self.month)
            .day(self.day)
            .hour(self.hour)
            .minute(self.minute)
            .second(self.second)
            .utc_offset_hour(0)
    }
}

fn finalized_text(data: &ReportData) -> String {
    data.finalized_at.map_or_else(|| "not finalized".to_owned(), |t| Utc::from_unix(t).human())
}

fn finalize_tx_text(data: &ReportData) -> String {
    data.finalize_tx.clone().unwrap_or_else(|| "none recorded".to_owned())
}

/// Which colour and tone the outcome takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tone {
    Resolved,
    Unresolved,
    Cancelled,
}

impl Tone {
    fn css_class(self) -> &'static str {
        match self {
            Self::Resolved => "resolved",
            Self::Unresolved => "unresolved",
            Self::Cancelled => "cancelled",
        }
    }
}

/// The outcome's headline and its explanation for the clinician, paragraph by paragraph.
#[derive(Debug)]
struct OutcomeText {
    tone: Tone,
    headline: String,
    paragraphs: Vec<String>,
}

fn outcome_text(data: &ReportData) -> OutcomeText {
    // Said whenever no second opinion came back: the clinician must not read the model's
    // prediction as one.
    let only_model = "Only the model's prediction remains, and it is not a diagnosis.";
    match data.outcome {
        ReportOutcome::Resolved { diagnosis, agreeing } => {
            let agreement = if diagnosis == data.predicted_class {
                "The panel's diagnosis agrees with the model's prediction.".to_owned()
            } else {
                format!(
                    "The panel's diagnosis differs from the model's prediction ({}).",
                    code_name(data, data.predicted_class)
                )
            };
            OutcomeText {
                tone: Tone::Resolved,
                headline: format!("Panel diagnosis: {}", code_name(data, diagnosis)),
                paragraphs: vec![
                    format!(
                        "{agreeing} of the {} doctors who revealed a vote agreed on this \
                         diagnosis; the quorum was {} of {} seats.",
                        data.revealed, data.quorum, data.seats
                    ),
                    agreement,
                    format!("The agreeing doctors were paid the bounty of {} from escrow.", data.bounty),
                ],
            }
        }
        ReportOutcome::Unresolved => OutcomeText {
            tone: Tone::Unresolved,
            headline: "No second opinion: the panel reached no quorum".to_owned(),
            paragraphs: vec![
                format!(
                    "{} of {} seats revealed a vote, and no diagnosis had the {} agreeing votes \
                     the quorum needs.",
                    data.revealed, data.seats, data.quorum
                ),
                format!(
                    "No second opinion was obtained for this scan. The bounty of {} was refunded \
                     to the hospital.",
                    data.bounty
                ),
                only_model.to_owned(),
            ],
        },
        ReportOutcome::Cancelled => OutcomeText {
            tone: Tone::Cancelled,
            headline: "No second opinion: the task was cancelled".to_owned(),
            paragraphs: vec![
                format!(
                    "Not all {} seats were claimed before the fill deadline, so the task was \
                     cancelled before the panel voted.",
                    data.seats
                ),
                format!(
                    "No second opinion was obtained for this scan. The bounty of {} was refunded \
                     to the hospital and the doctors' stakes were returned.",
                    data.bounty
                ),
                only_model.to_owned(),
            ],
        },
    }
}

/// One bar of the vote tally.
#[derive(Debug, Clone)]
struct TallyRow {
    code: u8,
    name: String,
    votes: usize,
    is_diagnosis: bool,
    is_prediction: bool,
}

impl TallyRow {
    fn tags(&self) -> &'static str {
        match (self.is_diagnosis, self.is_prediction) {
            (true, true) => "panel diagnosis, model's prediction",
            (true, false) => "panel diagnosis",
            (false, true) => "model's prediction",
            (false, false) => "",
        }
    }
}

/// Votes per code: every code of the code set (zero votes included, so the clinician sees what
/// the panel could have chosen), then any revealed code outside it.
fn tally(data: &ReportData) -> Vec<TallyRow> {
    let mut counts = [0usize; 256];
    for &vote in &data.votes {
        counts[usize::from(vote)] += 1;
    }
    let diagnosis = match data.outcome {
        ReportOutcome::Resolved { diagnosis, .. } => Some(diagnosis),
        ReportOutcome::Unresolved | ReportOutcome::Cancelled => None,
    };
    (0..=u8::MAX)
        .filter(|&code| usize::from(code) < data.code_set.len() || counts[usize::from(code)] > 0)
        .map(|code| TallyRow {
            code,
            name: code_name(data, code),
            votes: counts[usize::from(code)],
            is_diagnosis: diagnosis == Some(code),
            is_prediction: data.predicted_class == code,
        })
        .collect()
}

fn panel_summary(data: &ReportData) -> String {
    format!("{} seats, quorum {} agreeing votes, {} revealed.", data.seats, data.quorum, data.revealed)
}

const VERIFY_NOTE: &str = "Anyone can check this report on chain: the post transaction created \
    the task in the market with the hash of the scan CID, and the finalize transaction recorded \
    the votes and the outcome. The scan under this CID is encrypted; only the seated doctors \
    received its key.";

/// The on-chain facts, labelled; `true` marks machine strings shown in a monospace font.
fn verification(data: &ReportData) -> Vec<(&'static str, String, bool)> {
    vec![
        ("Chain id", data.chain_id.to_string(), true),
        ("Market", data.market.clone(), true),
        ("Task id", data.task_id.clone(), true),
        ("Post transaction", data.post_tx.clone(), true),
        ("Finalize transaction", finalize_tx_text(data), true),
        ("Scan CID (sealed)", data.scan_cid.clone(), true),
        ("Bounty", data.bounty.clone(), false),
    ]
}

const MODEL_NOTE: &str = "The classifier ran on the scan while it stayed encrypted (fully \
    homomorphic encryption); only the hospital node decrypted its result, which set the bounty: \
    the lower the confidence, the higher the bounty.";

// ------------------------------------------------------------------------------------------------
// HTML.

/// Escapes text for HTML element content and quoted attribute values.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const CSS: &str = "\
body{font-family:Helvetica,Arial,sans-serif;color:#1f2933;max-width:46rem;margin:2rem auto;\
padding:0 1rem;line-height:1.45}\
h1{color:#1c3361;font-size:1.6rem;margin:0}\
h2{color:#1c3361;font-size:1.05rem;margin:1.6rem 0 .5rem;border-bottom:1px solid #d5dbe3;\
padding-bottom:.2rem}\
.sub{color:#5b6675;margin:.2rem 0 1rem}\
dl{display:grid;grid-template-columns:11rem 1fr;gap:.25rem 1rem;margin:0}\
dt{color:#5b6675}dd{margin:0;overflow-wrap:anywhere}\
code{font-family:Courier,monospace;font-size:.9em}\
.outcome{padding:.8rem 1rem;border-left:5px solid;margin:1rem 0}\
.outcome h2{border:0;margin:0 0 .4rem;font-size:1.25rem}.outcome p{margin:.3rem 0}\
.resolved{border-color:#297f4a;background:#eaf5ee}.resolved h2{color:#297f4a}\
.unresolved{border-color:#c47f0d;background:#fdf4e3}.unresolved h2{color:#9a630a}\
.cancelled{border-color:#667085;background:#f0f1f4}.cancelled h2{color:#474f5c}\
table.tally{border-collapse:collapse;width:100%}\
.tally td{padding:.2rem .5rem .2rem 0;vertical-align:middle}\
.tally td.name{width:11rem;overflow-wrap:anywhere}.tally td.n{width:5rem;white-space:nowrap}\
.track{background:#e6e9ee;height:.8rem;width:100%}\
.bar{background:#8a94a6;height:.8rem}.bar.dx{background:#297f4a}\
.tag{color:#5b6675;font-size:.85em}\
.note{color:#5b6675;font-size:.9em}\
.limits{background:#f3f4f6;padding:.6rem 1rem;margin-top:1.6rem}\
.limits h2{margin-top:.2rem}.limits ul{margin:.3rem 0;padding-left:1.2rem}\
footer{color:#8a94a6;font-size:.8em;margin-top:1.5rem}";

fn html_time(out: &mut String, secs: u64) {
    let t = Utc::from_unix(secs);
    let _ = write!(out, "<time datetime=\"{}\">{}</time>", t.rfc3339(), t.human());
}

/// Renders the report as one self-contained HTML5 page (inline CSS, no script, no external
/// resource); every string from `data` is escaped.
pub fn render_html(data: &ReportData) -> String {
    // `write!` into a String cannot fail; its Result is discarded with `let _`.
    let mut h = String::with_capacity(8 * 1024);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{} - scan {}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<header>\n\
         <h1>{TITLE}</h1>\n<p class=\"sub\">{SUBTITLE}</p>\n<dl>\n",
        TITLE,
        esc(&data.scan_id)
    );
    let _ = write!(h, "<dt>Scan id</dt><dd><code>{}</code></dd>\n<dt>Submitted</dt><dd>", esc(&data.scan_id));
    html_time(&mut h, data.submitted_at);
    h.push_str("</dd>\n<dt>Finalized</dt><dd>");
    match data.finalized_at {
        Some(t) => html_time(&mut h, t),
        None => h.push_str("not finalized"),
    }
    h.push_str("</dd>\n</dl>\n</header>\n");

    let outcome = outcome_text(data);
    let _ = write!(
        h,
        "<section class=\"outcome {}\">\n<h2>{}</h2>\n",
        outcome.tone.css_class(),
        esc(&outcome.headline)
    );
    for p in &outcome.paragraphs {
        let _ = writeln!(h, "<p>{}</p>", esc(p));
    }
    h.push_str("</section>\n");

    let _ = write!(
        h,
        "<section>\n<h2>The model's prediction on the encrypted scan</h2>\n<dl>\n\
         <dt>Prediction</dt><dd>{}</dd>\n<dt>Calibrated confidence</dt><dd>{}</dd>\n\
         <dt>Model</dt><dd>{}</dd>\n<dt>Model id</dt><dd><code>{}</code></dd>\n</dl>\n\
         <p class=\"note\">{}</p>\n</section>\n",
        esc(&code_name(data, data.predicted_class)),
        percent(data.confidence_bps),
        esc(&data.model_name),
        esc(&data.model_id),
        esc(MODEL_NOTE)
    );

    let rows = tally(data);
    let max = rows.iter().map(|r| r.votes).max().unwrap_or(0).max(1);
    h.push_str("<section>\n<h2>Panel votes</h2>\n<table class=\"tally\">\n");
    for row in &rows {
        let width = row.votes * 100 / max;
        let _ = writeln!(
            h,
            "<tr><td class=\"name\">{}</td><td><div class=\"track\"><div class=\"bar{}\" \
             style=\"width:{width}%\"></div></div></td><td class=\"n\">{} vote{}</td>\
             <td class=\"tag\">{}</td></tr>",
            esc(&row.name),
            if row.is_diagnosis { " dx" } else { "" },
            row.votes,
            if row.votes == 1 { "" } else { "s" },
            row.tags()
        );
    }
    let _ = write!(h, "</table>\n<p>{}</p>\n</section>\n", esc(&panel_summary(data)));

    h.push_str("<section>\n<h2>Verify on chain</h2>\n<dl>\n");
    for (label, value, mono) in verification(data) {
        if mono {
            let _ = writeln!(h, "<dt>{label}</dt><dd><code>{}</code></dd>", esc(&value));
        } else {
            let _ = writeln!(h, "<dt>{label}</dt><dd>{}</dd>", esc(&value));
        }
    }
    let _ = write!(h, "</dl>\n<p class=\"note\">{}</p>\n</section>\n", esc(VERIFY_NOTE));

    let _ = write!(
        h,
        "<section class=\"limits\">\n<h2>Limits</h2>\n<p><strong>{}</strong></p>\n<ul>\n",
        esc(DISCLAIMER)
    );
    for limit in limits(data) {
        let _ = writeln!(h, "<li>{}</li>", esc(&limit));
    }
    h.push_str("</ul>\n</section>\n");
    let _ = write!(
        h,
        "<footer>Generated by the CrypDoc hospital node for scan <code>{}</code>.</footer>\n\
         </body>\n</html>\n",
        esc(&data.scan_id)
    );
    h
}

// ------------------------------------------------------------------------------------------------
// PDF.

/// A4 in points.
const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const MARGIN: f32 = 54.0;
const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN;
/// Width of the label column of label/value rows.
const LABEL_W: f32 = 122.0;
/// Tally rows drawn at most (a four-class model fits with room to spare); the HTML report
/// lists every code. More rows would push the verification data off the page.
const MAX_BARS: usize = 6;

type Rgb = (f32, f32, f32);
const INK: Rgb = (0.12, 0.16, 0.20);
const NAVY: Rgb = (0.11, 0.20, 0.38);
const MUTED: Rgb = (0.36, 0.40, 0.46);
const RULE: Rgb = (0.84, 0.86, 0.89);
const TRACK: Rgb = (0.90, 0.91, 0.93);
const BAR: Rgb = (0.54, 0.58, 0.65);
const LIMITS_BG: Rgb = (0.953, 0.957, 0.965);

/// Accent and background of the outcome box.
fn tone_colors(tone: Tone) -> (Rgb, Rgb) {
    match tone {
        Tone::Resolved => ((0.16, 0.50, 0.29), (0.918, 0.961, 0.933)),
        Tone::Unresolved => ((0.77, 0.50, 0.05), (0.992, 0.957, 0.890)),
        Tone::Cancelled => ((0.40, 0.44, 0.52), (0.941, 0.945, 0.957)),
    }
}

/// The three standard fonts the page uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Font {
    Regular,
    Bold,
    Mono,
}

/// Helvetica's advance widths for ASCII 32..=126 (1/1000 em), from its Adobe font metrics;
/// needed to wrap text, since a standard font carries no metrics in the file.
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556,
    556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278,
    500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469,
    556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500,
    278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];
/// Helvetica-Bold's, likewise.
const HELVETICA_BOLD: [u16; 95] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556,
    556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722, 722, 667, 611, 778, 722, 278,
    556, 722, 611, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584,
    556, 333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611, 611, 611, 389, 556,
    333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584,
];

impl Font {
    fn resource(self) -> Name<'static> {
        match self {
            Self::Regular => Name(b"F1"),
            Self::Bold => Name(b"F2"),
            Self::Mono => Name(b"F3"),
        }
    }

    fn base_font(self) -> Name<'static> {
        match self {
            Self::Regular => Name(b"Helvetica"),
            Self::Bold => Name(b"Helvetica-Bold"),
            Self::Mono => Name(b"Courier"),
        }
    }

    /// Advance width of one WinAnsi byte in 1/1000 em. Bytes above ASCII get a typical letter
    /// width: close enough for wrapping, which keeps a margin anyway.
    fn advance(self, byte: u8) -> f32 {
        let table = match self {
            Self::Mono => return 600.0,
            Self::Regular => &HELVETICA,
            Self::Bold => &HELVETICA_BOLD,
        };
        match byte {
            32..=126 => f32::from(table[usize::from(byte - 32)]),
            _ if self == Self::Bold => 611.0,
            _ => 556.0,
        }
    }

    fn width(self, text: &[u8], size: f32) -> f32 {
        text.iter().map(|&b| self.advance(b)).sum::<f32>() * size / 1000.0
    }
}

/// Encodes text for the fonts' WinAnsiEncoding: ASCII and Latin-1 map to themselves, common
/// typographic marks to their WinAnsi codes, control characters to spaces (a line break in a
/// hostile string must not break the layout) and anything else to `?`.
fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            ' '..='~' => c as u8,
            '\u{a0}'..='\u{ff}' => u8::try_from(u32::from(c)).unwrap_or(b'?'),
            '\u{20ac}' => 0x80,
            '\u{2026}' => 0x85,
            '\u{2018}' => 0x91,
            '\u{2019}' => 0x92,
            '\u{201c}' => 0x93,
            '\u{201d}' => 0x94,
            '\u{2022}' => 0x95,
            '\u{2013}' => 0x96,
            '\u{2014}' => 0x97,
            c if c.is_control() => b' ',
            _ => b'?',
        })
        .collect()
}

/// Greedy word wrap to `width` points, breaking inside a word only when the word alone is too
/// wide (hashes, CIDs). At most `max_lines` lines; if text is left over, the last line ends in
/// "..." so a cut is visible.
fn wrap(text: &str, font: Font, size: f32, width: f32, max_lines: usize) -> Vec<Vec<u8>> {
    let bytes = win_ansi(text);
    let space = font.width(b" ", size);
    let mut lines: Vec<Vec<u8>> = Vec::new();
    let mut line: Vec<u8> = Vec::new();
    let mut line_w = 0.0;
    for word in bytes.split(|&b| b == b' ').filter(|w| !w.is_empty()) {
        let word_w = font.width(word, size);
        if !line.is_empty() && line_w + space + word_w <= width {
            line.push(b' ');
            line.extend_from_slice(word);
            line_w += space + word_w;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
            line_w = 0.0;
        }
        for &b in word {
            let w = font.width(&[b], size);
            if !line.is_empty() && line_w + w > width {
                lines.push(std::mem::take(&mut line));
                line_w = 0.0;
            }
            line.push(b);
            line_w += w;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    if lines.len() > max_lines {
        lines.truncate(max_lines);
        if let Some(last) = lines.last_mut() {
            while !last.is_empty() && font.width(last, size) + font.width(b"...", size) > width {
                last.pop();
            }
            last.extend_from_slice(b"...");
        }
    }
    lines
}

/// A page being drawn top to bottom. `y` is the baseline of the last line drawn; flowing text
/// never goes below `floor` (the top of the limits box): what does not fit is dropped and
/// `overflow` set, so the page says so instead of drawing over the limits.
struct Canvas {
    content: Content,
    y: f32,
    floor: f32,
    overflow: bool,
}

impl Canvas {
    fn text_at(&mut self, font: Font, size: f32, x: f32, y: f32, color: Rgb, text: &[u8]) {
        self.content
            .set_fill_rgb(color.0, color.1, color.2)
            .begin_text()
            .set_font(font.resource(), size)
            .next_line(x, y)
            .show(Str(text))
            .end_text();
    }

    fn fill_rect(&mut self, x: f32, y: f32, w: f32, h: f32, color: Rgb) {
        self.content.set_fill_rgb(color.0, color.1, color.2).rect(x, y, w, h).fill_nonzero();
    }

    fn hline(&mut self, y: f32, color: Rgb, width: f32) {
        self.content
            .set_stroke_rgb(color.0, color.1, color.2)
            .set_line_width(width)
            .move_to(MARGIN, y)
            .line_to(PAGE_W - MARGIN, y)
            .stroke();
    }

    /// Whether a block of `height` points still fits above the floor; records it if not.
    /// Once something did not fit, nothing after it is drawn either: a later, shorter item
    /// squeezed in under a missing heading would read as belonging to the wrong section.
    fn fits(&mut self, height: f32) -> bool {
        let fits = !self.overflow && self.y - height >= self.floor;
        self.overflow |= !fits;
        fits
    }

    /// Draws one flowing line `leading` below the previous one.
    fn line(&mut self, font: Font, size: f32, x: f32, leading: f32, color: Rgb, text: &[u8]) {
        if self.fits(leading) {
            self.y -= leading;
            self.text_at(font, size, x, self.y, color, text);
        }
    }

    fn paragraph(&mut self, text: &str, font: Font, size: f32, color: Rgb, max_lines: usize) {
        let leading = size * 1.35;
        for l in wrap(text, font, size, CONTENT_W, max_lines) {
            self.line(font, size, MARGIN, leading, color, &l);
        }
    }

    fn heading(&mut self, text: &str) {
        if self.fits(30.0) {
            self.y -= 22.0;
            self.text_at(Font::Bold, 11.5, MARGIN, self.y, NAVY, &win_ansi(text));
            self.y -= 4.5;
            self.hline(self.y, RULE, 0.6);
            self.y -= 2.0;
        }
    }

    /// A label and a value wrapped in the value column.
    fn field(&mut self, label: &str, value: &str, font: Font, max_lines: usize) {
        let size = if font == Font::Mono { 8.6 } else { 9.6 };
        let leading = 13.2;
        let lines = wrap(value, font, size, CONTENT_W - LABEL_W, max_lines);
        if !self.fits(leading * lines.len().max(1) as f32) {
            return;
        }
        self.y -= leading;
        self.text_at(Font::Regular, 9.0, MARGIN, self.y, MUTED, &win_ansi(label));
        for (i, l) in lines.iter().enumerate() {
            if i > 0 {
                self.y -= leading;
            }
            self.text_at(font, size, MARGIN + LABEL_W, self.y, INK, l);
        }
    }
}

/// Draws the limits box at the bottom of the page and returns its top edge.
fn draw_limits(canvas: &mut Canvas, data: &ReportData, bottom: f32) -> f32 {
    let pad = 10.0;
    let inner = CONTENT_W - 2.0 * pad;
    let disclaimer = wrap(DISCLAIMER, Font::Bold, 9.4, inner, 3);
    // The model name is user-supplied: one line of it at most, so the box height is bounded.
    let items: Vec<Vec<Vec<u8>>> =
        limits(data).iter().map(|l| wrap(l, Font::Regular, 8.6, inner - 10.0, 3)).collect();
    let item_lines: usize = items.iter().map(Vec::len).sum();
    let height = pad
        + 15.0
        + disclaimer.len() as f32 * 12.4
        + 3.0
        + item_lines as f32 * 11.2
        + items.len() as f32 * 1.5
        + pad;
    canvas.fill_rect(MARGIN, bottom, CONTENT_W, height, LIMITS_BG);
    let mut y = bottom + height - pad - 10.0;
    canvas.text_at(Font::Bold, 11.5, MARGIN + pad, y, NAVY, b"Limits");
    y -= 5.0;
    for l in &disclaimer {
        y -= 12.4;
        canvas.text_at(Font::Bold, 9.4, MARGIN + pad, y, INK, l);
    }
    y -= 3.0;
    for item in &items {
        for (i, l) in item.iter().enumerate() {
            y -= 11.2;
            if i == 0 {
                canvas.text_at(Font::Regular, 8.6, MARGIN + pad, y, MUTED, &[0x95]);
            }
            canvas.text_at(Font::Regular, 8.6, MARGIN + pad + 10.0, y, INK, l);
        }
        y -= 1.5;
    }
    bottom + height
}

/// Draws the outcome box: an accent strip, the headline and the explanation.
fn draw_outcome(canvas: &mut Canvas, data: &ReportData) {
    let outcome = outcome_text(data);
    let (accent, background) = tone_colors(outcome.tone);
    let pad = 11.0;
    let x = MARGIN + 5.0 + pad;
    let inner = CONTENT_W - 5.0 - 2.0 * pad;
    let headline = wrap(&outcome.headline, Font::Bold, 15.0, inner, 2);
    let paragraphs: Vec<Vec<u8>> =
        outcome.paragraphs.iter().flat_map(|p| wrap(p, Font::Regular, 10.0, inner, 3)).collect();
    let height = 2.0 * pad + headline.len() as f32 * 19.0 + 3.0 + paragraphs.len() as f32 * 14.0;
    canvas.y -= 14.0;
    if !canvas.fits(height) {
        return;
    }
    let top = canvas.y;
    canvas.fill_rect(MARGIN, top - height, CONTENT_W, height, background);
    canvas.fill_rect(MARGIN, top - height, 5.0, height, accent);
    let mut y = top - pad - 3.0;
    for l in &headline {
        y -= 12.0;
        canvas.text_at(Font::Bold, 15.0, x, y, accent, l);
        y -= 7.0;
    }
    y -= 3.0;
    for l in &paragraphs {
        y -= 14.0;
        canvas.text_at(Font::Regular, 10.0, x, y, INK, l);
    }
    canvas.y = top - height;
}

/// Draws the vote tally as horizontal bars, one row per code.
fn draw_tally(canvas: &mut Canvas, data: &ReportData) {
    let mut rows = tally(data);
    let max = rows.iter().map(|r| r.votes).max().unwrap_or(0).max(1);
    // A one-page report cannot list hundreds of codes: keep the codes that matter (voted for,
    // diagnosed, predicted) first, then the rest in code order, and say how many were left out.
    let mut hidden_codes = 0usize;
    let mut hidden_votes = 0usize;
    if rows.len() > MAX_BARS {
        rows.sort_by_key(|r| {
            let rank = if r.is_diagnosis || r.is_prediction {
                0
            } else if r.votes > 0 {
                1
            } else {
                2
            };
            (rank, r.code)
        });
        for r in rows.drain(MAX_BARS..) {
            hidden_codes += 1;
            hidden_votes += r.votes;
        }
        rows.sort_by_key(|r| r.code);
    }
    let name_w = 130.0;
    let bar_x = MARGIN + name_w + 8.0;
    let bar_max = 150.0;
    let row_h = 16.0;
    for row in &rows {
        if !canvas.fits(row_h) {
            return;
        }
        canvas.y -= row_h;
        let y = canvas.y;
        let name = wrap(&row.name, Font::Regular, 9.6, name_w, 1);
        if let Some(l) = name.first() {
            canvas.text_at(Font::Regular, 9.6, MARGIN, y, INK, l);
        }
        canvas.fill_rect(bar_x, y - 2.0, bar_max, 11.0, TRACK);
        let w = bar_max * row.votes as f32 / max as f32;
        if w > 0.0 {
            let color = if row.is_diagnosis { tone_colors(Tone::Resolved).0 } else { BAR };
            canvas.fill_rect(bar_x, y - 2.0, w, 11.0, color);
        }
        let count = format!("{} vote{}", row.votes, if row.votes == 1 { "" } else { "s" });
        let count_x = bar_x + bar_max + 8.0;
        canvas.text_at(Font::Bold, 9.6, count_x, y, INK, count.as_bytes());
        let tag_x = count_x + 46.0;
        let tags = wrap(row.tags(), Font::Regular, 8.2, PAGE_W - MARGIN - tag_x, 1);
        if let Some(l) = tags.first() {
            canvas.text_at(Font::Regular, 8.2, tag_x, y, MUTED, l);
        }
    }
    if hidden_codes > 0 {
        let note = format!(
            "and {hidden_codes} more codes with {hidden_votes} votes in all (listed in the HTML \
             report)"
        );
        canvas.line(Font::Regular, 8.6, MARGIN, 13.0, MUTED, &win_ansi(&note));
    }
    canvas.y -= 4.0;
    canvas.paragraph(&panel_summary(data), Font::Regular, 9.6, INK, 2);
}

/// Renders the report as a one-page A4 PDF in the standard fonts (nothing embedded).
pub fn render_pdf(data: &ReportData) -> Vec<u8> {
    let catalog_id = Ref::new(1);
    let tree_id = Ref::new(2);
    let page_id = Ref::new(3);
    let content_id = Ref::new(4);
    let info_id = Ref::new(5);
    let fonts = [(Font::Regular, Ref::new(6)), (Font::Bold, Ref::new(7)), (Font::Mono, Ref::new(8))];

    let mut canvas = Canvas { content: Content::new(), y: PAGE_H - MARGIN, floor: 0.0, overflow: false };

    // Footer and limits first: they are pinned to the bottom, and their top is the floor the
    // flowing content must stay above.
    let footer_y = MARGIN - 20.0;
    let footer = wrap(
        &format!("Generated by the CrypDoc hospital node for scan {}. Page 1 of 1.", data.scan_id),
        Font::Regular,
        7.6,
        CONTENT_W,
        1,
    );
    if let Some(l) = footer.first() {
        canvas.text_at(Font::Regular, 7.6, MARGIN, footer_y, MUTED, l);
    }
    let limits_top = draw_limits(&mut canvas, data, MARGIN - 6.0);
    // One line is kept free above the limits for the overflow notice.
    canvas.floor = limits_top + 16.0;

    // Header.
    canvas.fill_rect(0.0, PAGE_H - 10.0, PAGE_W, 10.0, NAVY);
    canvas.y = PAGE_H - MARGIN - 4.0;
    canvas.text_at(Font::Bold, 21.0, MARGIN, canvas.y, NAVY, &win_ansi(TITLE));
    canvas.y -= 6.0;
    canvas.paragraph(SUBTITLE, Font::Regular, 9.8, MUTED, 1);
    canvas.y -= 4.0;
    canvas.field("Scan id", &data.scan_id, Font::Mono, 2);
    canvas.field("Submitted", &Utc::from_unix(data.submitted_at).human(), Font::Regular, 1);
    canvas.field("Finalized", &finalized_text(data), Font::Regular, 1);

    draw_outcome(&mut canvas, data);

    canvas.heading("The model's prediction on the encrypted scan");
    let prediction = format!(
        "{} at {} calibrated confidence",
        code_name(data, data.predicted_class),
        percent(data.confidence_bps)
    );
    canvas.field("Prediction", &prediction, Font::Bold, 2);
    canvas.field("Model", &data.model_name, Font::Regular, 1);
    canvas.field("Model id", &data.model_id, Font::Mono, 2);
    canvas.y -= 4.0;
    canvas.paragraph(MODEL_NOTE, Font::Regular, 8.6, MUTED, 3);

    canvas.heading("Panel votes");
    draw_tally(&mut canvas, data);

    canvas.heading("Verify on chain");
    for (label, value, mono) in verification(data) {
        let font = if mono { Font::Mono } else { Font::Regular };
        canvas.field(label, &value, font, 2);
    }
    canvas.y -= 4.0;
    canvas.paragraph(VERIFY_NOTE, Font::Regular, 8.6, MUTED, 4);

    if canvas.overflow {
        canvas.text_at(
            Font::Bold,
            8.6,
            MARGIN,
            limits_top + 6.0,
            tone_colors(Tone::Unresolved).0,
            b"Some entries did not fit on this page; the HTML report has them in full.",
        );
    }

    let mut pdf = Pdf::new();
    pdf.catalog(catalog_id).pages(tree_id);
    pdf.pages(tree_id).kids([page_id]).count(1);
    {
        let mut page = pdf.page(page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H)).parent(tree_id).contents(content_id);
        let mut resources = page.resources();
        let mut dict = resources.fonts();
        for (font, id) in fonts {
            dict.pair(font.resource(), id);
        }
    }
    for (font, id) in fonts {
        pdf.type1_font(id).base_font(font.base_font()).encoding_predefined(Name(b"WinAnsiEncoding"));
    }
    pdf.stream(content_id, &canvas.content.finish());
    // The document date is the report's own (finalization, else submission), not the clock:
    // the same data always renders to the same bytes.
    let dated = data.finalized_at.unwrap_or(data.submitted_at);
    pdf.document_info(info_id)
        .title(TextStr(&format!("{TITLE}, scan {}", data.scan_id)))
        .producer(TextStr("CrypDoc hospital node"))
        .creation_date(Utc::from_unix(dated).pdf());
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::process::Command;

    /// The training data a shipped model file declares.
    fn shipped_training_data(file: &str) -> Option<TrainingData> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models").join(file);
        crypdoc_model::QuantizedModel::load(&path).unwrap().training_data
    }

    /// The demo's task: tumor at 82.63%, four of five doctors agree.
    fn resolved() -> ReportData {
        ReportData {
            scan_id: "scan-7f3a9c21e0b4".to_owned(),
            submitted_at: 1_741_944_413,
            finalized_at: Some(1_741_948_013),
            model_id: "3699d026483384872e8e5b2096e1615cf34aaaf4f491e3d11bfc3f8c324e4b03".to_owned(),
            model_name: "br35h-mlp".to_owned(),
            training_data: shipped_training_data("br35h-mlp.json"),
            code_set: vec!["no tumor".to_owned(), "tumor".to_owned()],
            predicted_class: 1,
            confidence_bps: 8_263,
            outcome: ReportOutcome::Resolved { diagnosis: 1, agreeing: 4 },
            votes: vec![1, 1, 1, 1, 0],
            seats: 5,
            quorum: 3,
            revealed: 5,
            chain_id: 31_337,
            market: "0x5FbDB2315678afecb367f032d93F642f64180aa3".to_owned(),
            task_id: "1".to_owned(),
            post_tx: "0x9c1e4e0b7a5d3f2c8b6a4e2d0c9f8e7d6c5b4a39281706f5e4d3c2b1a0f9e8d7".to_owned(),
            finalize_tx: Some(
                "0x1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809".to_owned(),
            ),
            scan_cid: "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku".to_owned(),
            bounty: "82.532 tUSD".to_owned(),
        }
    }

    fn unresolved() -> ReportData {
        ReportData { outcome: ReportOutcome::Unresolved, votes: vec![1, 1, 0, 0], revealed: 4, ..resolved() }
    }

    fn cancelled() -> ReportData {
        ReportData {
            outcome: ReportOutcome::Cancelled,
            votes: vec![],
            revealed: 0,
            finalized_at: Some(1_742_030_813),
            ..resolved()
        }
    }

    const HOSTILE: &str = "<script>alert(\"x\")</script>&'\\)(";

    fn hostile() -> ReportData {
        ReportData {
            scan_id: format!("id{HOSTILE}"),
            model_id: format!("mid{HOSTILE}"),
            model_name: format!("name{HOSTILE}"),
            code_set: vec![format!("c0{HOSTILE}"), format!("c1{HOSTILE}")],
            market: format!("m{HOSTILE}"),
            task_id: format!("t{HOSTILE}"),
            post_tx: format!("p{HOSTILE}"),
            finalize_tx: Some(format!("f{HOSTILE}")),
            scan_cid: format!("cid{HOSTILE}"),
            bounty: format!("b{HOSTILE}"),
            training_data: Some(TrainingData {
                name: format!("tn{HOSTILE}"),
                description: format!("td{HOSTILE}"),
            }),
            ..resolved()
        }
    }

    /// Every string a report must show, as the HTML shows it.
    fn expected_strings(d: &ReportData) -> Vec<String> {
        let mut v = vec![
            d.scan_id.clone(),
            "2025-03-14 09:26:53 UTC".to_owned(),
            d.model_id.clone(),
            d.model_name.clone(),
            "82.63%".to_owned(),
            d.chain_id.to_string(),
            d.market.clone(),
            d.post_tx.clone(),
            d.scan_cid.clone(),
            d.bounty.clone(),
            format!("Task id</dt><dd><code>{}</code>", d.task_id),
            "5 seats, quorum 3 agreeing votes, 5 revealed.".to_owned(),
        ];
        v.extend(d.code_set.iter().cloned());
        v.extend(d.finalize_tx.iter().cloned());
        v.extend(d.finalized_at.map(|t| Utc::from_unix(t).human()));
        v
    }

    fn pdf_contains(pdf: &[u8], needle: &str) -> bool {
        // Content-stream strings are uncompressed literal strings; ASCII ones appear verbatim.
        pdf.windows(needle.len()).any(|w| w == needle.as_bytes())
    }

    fn count(hay: &[u8], needle: &[u8]) -> usize {
        hay.windows(needle.len()).filter(|w| *w == needle).count()
    }

    /// Checks the PDF's structure; renders it with poppler when installed.
    fn check_pdf(pdf: &[u8], name: &str) {
        assert!(pdf.starts_with(b"%PDF-"), "{name}: no PDF header");
        assert!(pdf.trim_ascii_end().ends_with(b"%%EOF"), "{name}: no EOF marker");
        // One page object ("/Type /Page" that is not "/Type /Pages") and a tree counting one.
        let pages = count(pdf, b"/Type /Page") - count(pdf, b"/Type /Pages");
        assert_eq!(pages, 1, "{name}: page objects");
        assert!(pdf_contains(pdf, "/Count 1"), "{name}: page count");
        assert!(pdf_contains(pdf, "/MediaBox [0 0 595.28 841.89]"), "{name}: not A4");
        assert!(!pdf_contains(pdf, "/FontFile"), "{name}: embeds a font");

        let have_poppler = Command::new("pdftoppm").arg("-v").output().is_ok();
        if !have_poppler {
            println!("pdftoppm not found (apt-get install poppler-utils): {name} not rasterized");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("report.pdf");
        std::fs::write(&file, pdf).unwrap();
        let out = Command::new("pdftoppm")
            .args(["-r", "40", "-png"])
            .arg(&file)
            .arg(dir.path().join("page"))
            .output()
            .unwrap();
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "{name}: pdftoppm failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let pngs: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "png"))
            .collect();
        assert_eq!(pngs.len(), 1, "{name}: pdftoppm made {} pages", pngs.len());
        let info = Command::new("pdfinfo").arg(&file).output().unwrap();
        let info = String::from_utf8_lossy(&info.stdout);
        assert!(info.contains("Pages:           1"), "{name}: {info}");
    }

    #[test]
    fn a_four_class_report_names_the_tumor_types_and_its_training_data() {
        let mut data = resolved();
        data.model_name = "crypdoc-tumor-type-v1".to_owned();
        data.training_data = shipped_training_data("crypdoc-tumor-type-v1.json");
        data.code_set = ["no-tumor", "glioma", "meningioma", "pituitary"].map(String::from).to_vec();
        data.predicted_class = 1;
        data.votes = vec![1, 1, 1, 1, 2];
        data.outcome = ReportOutcome::Resolved { diagnosis: 1, agreeing: 4 };
        let html = render_html(&data);
        assert!(html.contains("Panel diagnosis: glioma"), "{html}");
        assert!(html.contains("trained only on the public Nickparvar"));
        assert!(!html.contains("Br35H"));
        assert!(render_html(&resolved()).contains("Br35H"));
    }

    #[test]
    fn each_shipped_model_names_its_own_training_data_and_a_file_without_it_points_to_its_card() {
        let mut data = resolved();
        data.model_name = "crypdoc-binary-v2".to_owned();
        data.training_data = shipped_training_data("crypdoc-binary-v2.json");
        let html = render_html(&data);
        assert!(html.contains("trained only on the public Br35H and Nickparvar"), "{html}");
        assert!(html.contains("48x48"));
        assert!(html.contains("validation split of Br35H and Nickparvar"));
        data.training_data = None;
        let html = render_html(&data);
        assert!(html.contains("trained on the data its model card describes"), "{html}");
        assert!(!html.contains("Br35H") && !html.contains("Nickparvar"));
        // Reports recorded before the field existed still read.
        let mut old = serde_json::to_value(resolved()).unwrap();
        old.as_object_mut().unwrap().remove("training_data");
        assert_eq!(serde_json::from_value::<ReportData>(old).unwrap().training_data, None);
    }

    #[test]
    fn html_escapes_hostile_strings() {
        let html = render_html(&hostile());
        assert!(!html.contains("<script"), "raw markup from data");
        assert!(!html.contains(HOSTILE));
        let escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;\\)(";
        // Every hostile field shows up, escaped: scan id, model id and name, both codes,
        // market, task, both transactions, CID and bounty.
        for prefix in ["id", "mid", "name", "c0", "c1", "m", "t", "p", "f", "cid", "b", "tn", "td"] {
            assert!(html.contains(&format!("{prefix}{escaped}")), "{prefix} missing or not escaped");
        }
        // The only tags are ours: no attribute was broken out of.
        assert!(!html.contains("\"x\""));
    }

    #[test]
    fn every_field_appears() {
        let d = resolved();
        let html = render_html(&d);
        for s in expected_strings(&d) {
            assert!(html.contains(&s), "html lacks {s:?}");
        }
        assert!(html.contains("<title>CrypDoc second-opinion report - scan scan-7f3a9c21e0b4"));
        assert!(html.contains("<time datetime=\"2025-03-14T09:26:53Z\">2025-03-14 09:26:53 UTC</time>"));
        assert!(html.contains("<h1>CrypDoc second-opinion report</h1>"));
        assert!(html.contains(DISCLAIMER.replace('\'', "&#39;").as_str()));
        assert!(html.contains("trained only on the public Br35H"));
        assert!(html.contains("calibrated on its validation split"));
        // The tally: 4 for tumor (the diagnosis), 1 for no tumor.
        assert!(html.contains("width:100%\"></div></div></td><td class=\"n\">4 votes"));
        assert!(html.contains("width:25%\"></div></div></td><td class=\"n\">1 vote<"));
        assert!(!html.contains("http"), "the page loads nothing");

        let pdf = render_pdf(&d);
        for s in [
            "CrypDoc second-opinion report",
            &d.scan_id,
            "2025-03-14 09:26:53 UTC",
            "Panel diagnosis: tumor",
            "tumor at 82.63% calibrated confidence",
            &d.model_id,
            "br35h-mlp",
            "31337",
            &d.market,
            &d.task_id,
            &d.post_tx,
            &d.finalize_tx.clone().unwrap(),
            &d.scan_cid,
            "82.532 tUSD",
            "4 votes",
            "1 vote",
            "no tumor",
            "5 seats, quorum 3 agreeing votes, 5 revealed.",
            "CrypDoc is a research tool, not a medical device.",
        ] {
            assert!(pdf_contains(&pdf, s), "pdf lacks {s:?}");
        }
        check_pdf(&pdf, "resolved");
    }

    #[test]
    fn each_outcome_has_its_wording() {
        let r = resolved();
        let html = render_html(&r);
        assert!(html.contains("class=\"outcome resolved\""));
        assert!(html.contains("<h2>Panel diagnosis: tumor</h2>"));
        assert!(html.contains("4 of the 5 doctors who revealed a vote agreed"));
        assert!(html.contains("agrees with the model&#39;s prediction"));
        assert!(!html.contains("No second opinion"));

        let dissent = ReportData {
            outcome: ReportOutcome::Resolved { diagnosis: 0, agreeing: 3 },
            votes: vec![0, 0, 0, 1, 1],
            ..resolved()
        };
        assert!(render_html(&dissent).contains("differs from the model&#39;s prediction (tumor)"));

        for (d, class, headline, why) in [
            (
                unresolved(),
                "unresolved",
                "No second opinion: the panel reached no quorum",
                "4 of 5 seats revealed a vote, and no diagnosis had the 3 agreeing votes",
            ),
            (
                cancelled(),
                "cancelled",
                "No second opinion: the task was cancelled",
                "Not all 5 seats were claimed before the fill deadline",
            ),
        ] {
            let html = render_html(&d);
            assert!(html.contains(&format!("class=\"outcome {class}\"")), "{class}");
            assert!(html.contains(&format!("<h2>{headline}</h2>")), "{class}");
            assert!(html.contains(why), "{class}");
            assert!(html.contains("No second opinion was obtained for this scan."));
            assert!(html.contains("The bounty of 82.532 tUSD was refunded to the hospital"));
            assert!(html.contains("it is not a diagnosis"));
            assert!(!html.contains("Panel diagnosis"), "{class}");
            let pdf = render_pdf(&d);
            assert!(pdf_contains(&pdf, headline), "{class} pdf");
            assert!(pdf_contains(&pdf, "No second opinion was obtained"), "{class} pdf");
            assert!(pdf_contains(&pdf, "refunded"), "{class} pdf");
            check_pdf(&pdf, class);
        }
        let html = render_html(&cancelled());
        assert!(html.contains("0 votes"));
        let not_final = ReportData { finalized_at: None, finalize_tx: None, ..cancelled() };
        let html = render_html(&not_final);
        assert!(html.contains("<dt>Finalized</dt><dd>not finalized</dd>"));
        assert!(html.contains("<code>none recorded</code>"));
    }

    #[test]
    fn pdf_of_hostile_and_oversized_data_stays_one_page() {
        check_pdf(&render_pdf(&hostile()), "hostile");
        let long = "x".repeat(5_000);
        let huge = ReportData {
            scan_id: format!("{long}\n\r\t\u{0}(\\"),
            model_name: format!("{long} {long}"),
            code_set: (0..300).map(|i| format!("diagnosis {i} {long}")).collect(),
            votes: (0..=255).collect(),
            market: "\u{65e5}\u{672c} caf\u{e9} \u{2014} \u{1f600}".repeat(400),
            post_tx: long.clone(),
            scan_cid: long.clone(),
            bounty: long,
            outcome: ReportOutcome::Resolved { diagnosis: 250, agreeing: 1 },
            ..resolved()
        };
        let pdf = render_pdf(&huge);
        assert!(pdf_contains(&pdf, "did not fit on this page"));
        assert!(pdf_contains(&pdf, "and 250 more codes"));
        assert!(pdf_contains(&pdf, "CrypDoc is a research tool"));
        check_pdf(&pdf, "oversized");
        // The realistic report fits entirely.
        assert!(!pdf_contains(&render_pdf(&resolved()), "did not fit"));
    }

    #[test]
    fn pdf_is_deterministic() {
        assert_eq!(render_pdf(&resolved()), render_pdf(&resolved()));
    }

    #[test]
    fn unknown_codes_are_named_not_hidden() {
        let d = ReportData { votes: vec![1, 1, 1, 7], ..resolved() };
        let html = render_html(&d);
        assert!(html.contains("code 7 (not in the code set)"));
    }

    #[test]
    fn dates_are_utc() {
        assert_eq!(Utc::from_unix(0).human(), "1970-01-01 00:00:00 UTC");
        assert_eq!(Utc::from_unix(951_782_400).human(), "2000-02-29 00:00:00 UTC");
        assert_eq!(Utc::from_unix(1_700_000_000).human(), "2023-11-14 22:13:20 UTC");
        // No panic at the extreme.
        let _ = Utc::from_unix(u64::MAX).human();
        let _ =
            render_pdf(&ReportData { submitted_at: u64::MAX, finalized_at: Some(u64::MAX), ..resolved() });
    }

    #[test]
    fn report_data_round_trips_through_json() {
        for d in [resolved(), unresolved(), cancelled()] {
            let json = serde_json::to_string(&d).unwrap();
            let back: ReportData = serde_json::from_str(&json).unwrap();
            assert_eq!(back, d);
        }
        let json = serde_json::to_value(resolved()).unwrap();
        assert_eq!(json["outcome"], serde_json::json!({"status": "resolved", "diagnosis": 1, "agreeing": 4}));
    }

    /// Regenerates `docs/report-example.png` (and a PDF beside it in the temp dir):
    /// `cargo test -p crypdoc-hospital --lib report -- --ignored write_example`.
    #[test]
    #[ignore = "writes docs/report-example.png; needs pdftoppm"]
    fn write_example() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let dir = tempfile::tempdir().unwrap();
        let pdf = dir.path().join("report-example.pdf");
        std::fs::write(&pdf, render_pdf(&resolved())).unwrap();
        let prefix = root.join("docs/report-example");
        let status = Command::new("pdftoppm")
            .args(["-r", "60", "-png", "-singlefile"])
            .arg(&pdf)
            .arg(&prefix)
            .status()
            .unwrap();
        assert!(status.success());
        let size = std::fs::metadata(root.join("docs/report-example.png")).unwrap().len();
        assert!(size < 150 * 1024, "{size} bytes");
    }
}
