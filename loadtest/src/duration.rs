//! `--duration` values: plain seconds as before (`3`, `0.5`), or with units
//! (`30s`, `2m`, `1m30s`, `500ms`, `1h`), between [`MIN`] and [`MAX`].
//!
//! ```
//! use std::time::Duration;
//! use tenuo_loadtest::duration::{parse, DurationError};
//!
//! assert_eq!(parse("1m30s"), Ok(Duration::from_secs(90)));
//! assert_eq!(parse("2.5"), Ok(Duration::from_millis(2500)));
//! assert_eq!(parse("0s"), Err(DurationError::Zero));
//! ```

use std::time::Duration;

/// The shortest phase measured: goose rounds up to whole seconds anyway, and an
/// open loop shorter than this holds too few requests to give a percentile.
pub const MIN: Duration = Duration::from_millis(100);
/// The longest phase: the harness bounds every loop in time.
pub const MAX: Duration = Duration::from_secs(3600);

/// Why a `--duration` value was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DurationError {
    /// Nothing given.
    #[error("empty: give seconds (3) or a duration with units (30s, 2m, 1m30s)")]
    Empty,
    /// A leading minus sign.
    #[error("negative: a duration is more than zero")]
    Negative,
    /// Zero in all.
    #[error("zero: a duration is more than zero")]
    Zero,
    /// Shorter than [`MIN`] or longer than [`MAX`].
    #[error("out of range: between 100ms and 1h")]
    OutOfRange,
    /// Where a number was expected, none (or not a finite one).
    #[error("not a number where one was expected: write 30s, 2m, 1m30s, 500ms or plain seconds")]
    Number,
    /// A number with no unit after a part with one (`1m30`).
    #[error("a number without its unit: write 1m30s, not 1m30")]
    MissingUnit,
    /// A unit other than `h`, `m`, `s` and `ms`, or none before a space or sign.
    #[error("unknown unit: use h, m, s or ms, with no spaces (1m30s)")]
    Unit,
}

/// Parses plain seconds or a sequence of `<number><unit>` parts.
pub fn parse(text: &str) -> Result<Duration, DurationError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(DurationError::Empty);
    }
    if text.starts_with('-') {
        return Err(DurationError::Negative);
    }
    let total = match text.parse::<f64>() {
        Ok(secs) if secs.is_finite() => secs,
        // `inf` and `NaN` parse as floats; they are not durations.
        Ok(_) => return Err(DurationError::Number),
        Err(_) => with_units(text)?,
    };
    if total == 0.0 {
        return Err(DurationError::Zero);
    }
    let duration = Duration::try_from_secs_f64(total).map_err(|_| DurationError::OutOfRange)?;
    if !(MIN..=MAX).contains(&duration) {
        return Err(DurationError::OutOfRange);
    }
    Ok(duration)
}

/// Seconds in `1m30s`-style text.
fn with_units(text: &str) -> Result<f64, DurationError> {
    let mut rest = text;
    let mut total = 0.0;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..digits].parse().map_err(|_| DurationError::Number)?;
        rest = &rest[digits..];
        let letters = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let scale = match &rest[..letters] {
            "" if rest.is_empty() => return Err(DurationError::MissingUnit),
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            _ => return Err(DurationError::Unit),
        };
        rest = &rest[letters..];
        total += number * scale;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_seconds_as_before() {
        assert_eq!(parse("3"), Ok(Duration::from_secs(3)));
        assert_eq!(parse("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(parse(" 30 "), Ok(Duration::from_secs(30)));
        assert_eq!(parse("3600"), Ok(MAX));
    }

    #[test]
    fn units_and_their_sums() {
        assert_eq!(parse("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("1h"), Ok(MAX));
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("1s500ms"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse("1.5s"), Ok(Duration::from_millis(1500)));
    }

    #[test]
    fn zero_negative_and_garbage_are_refused() {
        assert_eq!(parse("0s"), Err(DurationError::Zero));
        assert_eq!(parse("0"), Err(DurationError::Zero));
        assert_eq!(parse("0m0s"), Err(DurationError::Zero));
        assert_eq!(parse("-1"), Err(DurationError::Negative));
        assert_eq!(parse("-30s"), Err(DurationError::Negative));
        assert_eq!(parse(""), Err(DurationError::Empty));
        assert_eq!(parse("soon"), Err(DurationError::Number));
        assert_eq!(parse("s"), Err(DurationError::Number));
        assert_eq!(parse("1..5s"), Err(DurationError::Number));
        assert_eq!(parse("inf"), Err(DurationError::Number));
        assert_eq!(parse("NaN"), Err(DurationError::Number));
        assert_eq!(parse("1m30"), Err(DurationError::MissingUnit));
        assert_eq!(parse("30 s"), Err(DurationError::Unit));
        assert_eq!(parse("2d"), Err(DurationError::Unit));
        assert_eq!(parse("30sec"), Err(DurationError::Unit));
        assert_eq!(parse("2h"), Err(DurationError::OutOfRange));
        assert_eq!(parse("50ms"), Err(DurationError::OutOfRange));
        assert_eq!(parse("1e300"), Err(DurationError::OutOfRange));
    }
}
