//! Errors as one line for people: a message and its causes.

/// `error` and each of its sources joined by `": "`, as `anyhow`'s `{:#}` prints them: for
/// places that show an error as text (job records, HTTP refusals). Error types show their cause
/// either in their own message or as their `source`, never both, so nothing repeats.
///
/// ```
/// #[derive(Debug, thiserror::Error)]
/// #[error("cannot read the ledger")]
/// struct Ledger(#[source] std::io::Error);
///
/// let error = Ledger(std::io::Error::other("disk full"));
/// assert_eq!(crypdoc_types::describe_error(&error), "cannot read the ledger: disk full");
/// ```
pub fn describe_error(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        // A transparent wrapper's source prints the same line again.
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
