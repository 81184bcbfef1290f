//! Calibration (temperature scaling) and classification metrics.

use serde::{Deserialize, Serialize};

use crate::dataset::Sample;
use crate::QuantizedModel;

/// Softmax of `logits / temperature`.
pub fn softmax(logits: &[f64], temperature: f64) -> Vec<f64> {
    let scaled: Vec<f64> = logits.iter().map(|z| z / temperature).collect();
    let max = scaled.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let exp: Vec<f64> = scaled.iter().map(|z| (z - max).exp()).collect();
    let sum: f64 = exp.iter().sum();
    exp.iter().map(|e| e / sum).collect()
}

/// Mean negative log-likelihood of `labels` under `softmax(logits / temperature)`.
pub fn nll(logits: &[Vec<f64>], labels: &[usize], temperature: f64) -> f64 {
    let total: f64 =
        logits.iter().zip(labels).map(|(z, y)| -softmax(z, temperature)[*y].max(1e-300).ln()).sum();
    total / logits.len().max(1) as f64
}

/// The temperature in `[0.01, 100]` minimising [`nll`]: golden-section search on `ln T`
/// (the NLL of temperature scaling is unimodal in it).
pub fn fit_temperature(logits: &[Vec<f64>], labels: &[usize]) -> f64 {
    let f = |log_t: f64| nll(logits, labels, log_t.exp());
    let (mut a, mut b) = (0.01f64.ln(), 100f64.ln());
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let mut c = b - g * (b - a);
    let mut d = a + g * (b - a);
    let (mut fc, mut fd) = (f(c), f(d));
    for _ in 0..80 {
        if fc < fd {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = f(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = f(d);
        }
    }
    ((a + b) / 2.0).exp()
}

/// Number of bins of [`ece`].
pub const ECE_BINS: usize = 15;

/// One bin of a reliability diagram.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ReliabilityBin {
    /// Lower edge of the confidence bin.
    pub lower: f64,
    /// Upper edge.
    pub upper: f64,
    /// Predictions in it.
    pub count: usize,
    /// Their mean confidence.
    pub confidence: f64,
    /// Their accuracy.
    pub accuracy: f64,
}

/// Reliability bins of top-class confidences (equal width over `[0, 1]`, [`ECE_BINS`] bins).
pub fn reliability(confidences: &[f64], correct: &[bool]) -> Vec<ReliabilityBin> {
    (0..ECE_BINS)
        .map(|b| {
            let lower = b as f64 / ECE_BINS as f64;
            let upper = (b + 1) as f64 / ECE_BINS as f64;
            let members: Vec<usize> = (0..confidences.len())
                .filter(|i| {
                    let c = confidences[*i];
                    c > lower && c <= upper || (b == 0 && c == 0.0)
                })
                .collect();
            let n = members.len();
            let mean = |f: &dyn Fn(usize) -> f64| {
                if n == 0 {
                    0.0
                } else {
                    members.iter().map(|i| f(*i)).sum::<f64>() / n as f64
                }
            };
            ReliabilityBin {
                lower,
                upper,
                count: n,
                confidence: mean(&|i| confidences[i]),
                accuracy: mean(&|i| f64::from(u8::from(correct[i]))),
            }
        })
        .collect()
}

/// Expected calibration error: the count-weighted mean `|accuracy - confidence|` over the
/// [`ECE_BINS`] reliability bins of the top-class confidence.
pub fn ece(confidences: &[f64], correct: &[bool]) -> f64 {
    let n = confidences.len().max(1) as f64;
    reliability(confidences, correct)
        .iter()
        .map(|bin| bin.count as f64 / n * (bin.accuracy - bin.confidence).abs())
        .sum()
}

/// Area under the ROC curve of `scores` for `positives` (Mann-Whitney, ties count half).
pub fn roc_auc(scores: &[f64], positives: &[bool]) -> f64 {
    let pos: Vec<f64> = scores.iter().zip(positives).filter(|(_, p)| **p).map(|(s, _)| *s).collect();
    let neg: Vec<f64> = scores.iter().zip(positives).filter(|(_, p)| !**p).map(|(s, _)| *s).collect();
    if pos.is_empty() || neg.is_empty() {
        return f64::NAN;
    }
    let mut wins = 0.0;
    for p in &pos {
        for n in &neg {
            wins += if p > n {
                1.0
            } else if p == n {
                0.5
            } else {
                0.0
            };
        }
    }
    wins / (pos.len() * neg.len()) as f64
}

/// ROC curve points `(false positive rate, true positive rate)`, from (0,0) to (1,1).
pub fn roc_curve(scores: &[f64], positives: &[bool]) -> Vec<(f64, f64)> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|a, b| scores[*b].total_cmp(&scores[*a]));
    let p = positives.iter().filter(|x| **x).count().max(1) as f64;
    let n = positives.iter().filter(|x| !**x).count().max(1) as f64;
    let (mut tp, mut fp) = (0.0, 0.0);
    let mut points = vec![(0.0, 0.0)];
    let mut i = 0;
    while i < order.len() {
        let s = scores[order[i]];
        while i < order.len() && scores[order[i]] == s {
            if positives[order[i]] {
                tp += 1.0;
            } else {
                fp += 1.0;
            }
            i += 1;
        }
        points.push((fp / n, tp / p));
    }
    points
}

/// Metrics of a model on a labelled set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Images evaluated.
    pub count: usize,
    /// Class names.
    pub classes: Vec<String>,
    /// The class counted as positive for sensitivity, specificity and AUC (the tumor class), or
    /// `tumor (any type)` for a model with tumor types beside a no-tumor class
    /// ([`positive_classes`]).
    pub positive_class: String,
    /// Fraction classified correctly, 0..1.
    pub accuracy: f64,
    /// True positive rate.
    pub sensitivity: f64,
    /// True negative rate.
    pub specificity: f64,
    /// Area under the ROC curve of the positive side's probability.
    pub roc_auc: f64,
    /// `confusion[actual][predicted]`.
    pub confusion: Vec<Vec<usize>>,
    /// Expected calibration error of the calibrated confidences (15 bins).
    pub ece: f64,
    /// Mean negative log-likelihood of the calibrated probabilities.
    pub nll: f64,
    /// Fraction of hidden pre-activations with `|pre_j| < hidden_range(j) / 64`: within 2^-7 of
    /// the torus (about 5 standard deviations of the bootstrap's noise) of the sign boundary in
    /// the encrypted circuit, where its sign may differ from the reference.
    pub near_zero_fraction: f64,
    /// Fraction of images whose predicted class could change if every hidden unit in that band
    /// flipped its sign the worst possible way (the encrypted result's risk of disagreeing).
    pub at_risk_fraction: f64,
    /// Reliability diagram bins.
    pub reliability: Vec<ReliabilityBin>,
    /// ROC curve `(fpr, tpr)` points.
    pub roc: Vec<(f64, f64)>,
}

/// Which classes count as positive (tumor) for sensitivity, specificity and the ROC curve, and
/// the name of that side: a `yes`/`tumor` class if there is one; else, beside a no-tumor class
/// (`no`, `notumor`, `no-tumor`, `no tumor`) among three or more, every other class ("tumor (any
/// type)": the four-class model's tumor types); else the last class.
pub fn positive_classes(classes: &[String]) -> (Vec<bool>, String) {
    let name = |c: &String| c.to_ascii_lowercase();
    if let Some(p) = classes.iter().position(|c| matches!(name(c).as_str(), "yes" | "tumor" | "tumour")) {
        return ((0..classes.len()).map(|k| k == p).collect(), classes[p].clone());
    }
    let no_tumor =
        classes.iter().position(|c| matches!(name(c).as_str(), "no" | "notumor" | "no-tumor" | "no tumor"));
    match no_tumor {
        Some(n) if classes.len() > 2 => {
            ((0..classes.len()).map(|k| k != n).collect(), "tumor (any type)".to_owned())
        }
        _ => {
            let last = classes.len().saturating_sub(1);
            ((0..classes.len()).map(|k| k == last).collect(), classes.get(last).cloned().unwrap_or_default())
        }
    }
}

/// Metrics from per-sample probabilities and labels.
pub fn evaluate_probabilities(
    classes: &[String],
    probabilities: &[Vec<f64>],
    labels: &[usize],
) -> Evaluation {
    let k = classes.len();
    let (is_positive, positive_class) = positive_classes(classes);
    let mut confusion = vec![vec![0usize; k]; k];
    let mut confidences = Vec::with_capacity(labels.len());
    let mut correct = Vec::with_capacity(labels.len());
    let mut nll_sum = 0.0;
    for (p, y) in probabilities.iter().zip(labels) {
        let (pred, conf) = p.iter().copied().enumerate().fold((0, f64::NEG_INFINITY), |best, (i, v)| {
            if v > best.1 {
                (i, v)
            } else {
                best
            }
        });
        confusion[*y][pred] += 1;
        confidences.push(conf);
        correct.push(pred == *y);
        nll_sum -= p[*y].max(1e-300).ln();
    }
    let n = labels.len().max(1) as f64;
    let rate = |num: usize, den: usize| if den == 0 { f64::NAN } else { num as f64 / den as f64 };
    // Counts of (actual side, predicted side): a tumor found counts whatever its type.
    let side_count = |actual: bool, predicted: bool| -> usize {
        (0..k)
            .filter(|a| is_positive[*a] == actual)
            .map(|a| (0..k).filter(|p| is_positive[*p] == predicted).map(|p| confusion[a][p]).sum::<usize>())
            .sum()
    };
    let (true_pos, false_neg) = (side_count(true, true), side_count(true, false));
    let (true_neg, false_pos) = (side_count(false, false), side_count(false, true));
    let scores: Vec<f64> = probabilities
        .iter()
        .map(|p| p.iter().zip(&is_positive).filter(|(_, t)| **t).map(|(v, _)| v).sum())
        .collect();
    let positives: Vec<bool> = labels.iter().map(|y| is_positive[*y]).collect();
    Evaluation {
        count: labels.len(),
        classes: classes.to_vec(),
        positive_class,
        accuracy: correct.iter().filter(|c| **c).count() as f64 / n,
        sensitivity: rate(true_pos, true_pos + false_neg),
        specificity: rate(true_neg, true_neg + false_pos),
        roc_auc: roc_auc(&scores, &positives),
        confusion,
        ece: ece(&confidences, &correct),
        nll: nll_sum / n,
        near_zero_fraction: 0.0,
        at_risk_fraction: 0.0,
        reliability: reliability(&confidences, &correct),
        roc: roc_curve(&scores, &positives),
    }
}

/// Evaluates the integer reference inference of `model` on `samples` (labels must index the
/// model's classes).
pub fn evaluate_model(model: &QuantizedModel, samples: &[&Sample]) -> Result<Evaluation, crate::ModelError> {
    let bands: Vec<f64> = (0..model.hidden.outputs).map(|j| model.hidden_range(j) as f64 / 64.0).collect();
    let near_boundary = |j: usize, pre: i64| (pre.unsigned_abs() as f64) < bands[j];
    let mut near = 0usize;
    let mut at_risk = 0usize;
    let mut total = 0usize;
    let mut probabilities = Vec::with_capacity(samples.len());
    let mut labels = Vec::with_capacity(samples.len());
    for s in samples {
        let out = model.infer(&s.pixels)?;
        near += out.pre_activations.iter().enumerate().filter(|(j, p)| near_boundary(*j, **p)).count();
        total += out.pre_activations.len();
        let (pred, _) = model.predict(&out.logits);
        let risky = (0..model.output.outputs).filter(|c| *c != pred).any(|c| {
            let worst: i64 = (0..model.hidden.outputs)
                .filter(|j| near_boundary(*j, out.pre_activations[*j]))
                .map(|j| 2 * (i64::from(model.output.row(pred)[j]) - i64::from(model.output.row(c)[j])).abs())
                .sum();
            worst >= out.logits[pred] - out.logits[c]
        });
        at_risk += usize::from(risky);
        probabilities.push(model.probabilities(&out.logits));
        labels.push(s.label);
    }
    let mut eval = evaluate_probabilities(&model.classes, &probabilities, &labels);
    eval.near_zero_fraction = near as f64 / total.max(1) as f64;
    eval.at_risk_fraction = at_risk as f64 / samples.len().max(1) as f64;
    Ok(eval)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_ece_and_temperature() {
        assert_eq!(roc_auc(&[0.9, 0.8, 0.2, 0.1], &[true, true, false, false]), 1.0);
        assert_eq!(roc_auc(&[0.1, 0.2, 0.8, 0.9], &[true, true, false, false]), 0.0);
        assert_eq!(roc_auc(&[0.5, 0.5], &[true, false]), 0.5);
        assert!(ece(&[1.0, 1.0], &[true, true]) < 1e-12);
        assert!((ece(&[0.9, 0.9], &[false, false]) - 0.9).abs() < 1e-12);
        // Overconfident logits: 80% right at huge margins -> temperature well above 1.
        let logits: Vec<Vec<f64>> = (0..100).map(|_| vec![0.0, 10.0]).collect();
        let labels: Vec<usize> = (0..100).map(|i| usize::from(i % 5 != 0)).collect();
        let t = fit_temperature(&logits, &labels);
        let p = softmax(&logits[0], t)[1];
        assert!((p - 0.8).abs() < 1e-3, "p {p} t {t}");
        let roc = roc_curve(&[0.9, 0.1], &[true, false]);
        assert_eq!(roc, vec![(0.0, 0.0), (0.0, 1.0), (1.0, 1.0)]);
    }

    #[test]
    fn tumor_types_count_as_one_positive_side() {
        let names = |c: &[&str]| c.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let binary = names(&["no", "yes"]);
        assert_eq!(positive_classes(&binary), (vec![false, true], "yes".to_owned()));
        let types = names(&["notumor", "glioma", "meningioma", "pituitary"]);
        assert_eq!(positive_classes(&types), (vec![false, true, true, true], "tumor (any type)".to_owned()));
        assert_eq!(positive_classes(&names(&["cat", "dog"])).1, "dog");

        // A glioma taken for a meningioma is still a tumor found; a no-tumor scan taken for a
        // pituitary tumor is a false positive.
        let probabilities = vec![
            vec![0.1, 0.2, 0.6, 0.1], // glioma, predicted meningioma
            vec![0.7, 0.1, 0.1, 0.1], // pituitary, predicted no tumor
            vec![0.6, 0.2, 0.1, 0.1], // no tumor, right
            vec![0.2, 0.1, 0.1, 0.6], // no tumor, predicted pituitary
        ];
        let e = evaluate_probabilities(&types, &probabilities, &[1, 3, 0, 0]);
        assert_eq!(e.positive_class, "tumor (any type)");
        assert!((e.sensitivity - 0.5).abs() < 1e-12, "{}", e.sensitivity);
        assert!((e.specificity - 0.5).abs() < 1e-12, "{}", e.specificity);
        // Scores 1 - p(notumor): 0.9, 0.3 for the tumors, 0.4, 0.8 for the others.
        assert!((e.roc_auc - 0.5).abs() < 1e-12, "{}", e.roc_auc);
        assert!((e.accuracy - 0.25).abs() < 1e-12);
    }
}
