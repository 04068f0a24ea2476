//! The run's `log.csv`: one row per step (loss, learning rate) with the
//! validation DICE on the steps that validated.

use std::path::Path;

use crate::Error;

/// The name of the log in a run folder.
pub const LOG_FILE: &str = "log.csv";

/// The header line of [`LOG_FILE`].
pub(crate) const LOG_HEADER: &str = "step,samples,loss,lr,val_dice,val_dice_corrected";

/// One row of [`LOG_FILE`].
#[derive(Clone, Debug, PartialEq)]
pub struct LogRow {
    /// Steps done.
    pub step: usize,
    /// Samples seen.
    pub samples: usize,
    /// The step's mean loss.
    pub loss: f32,
    /// The learning rate of the step.
    pub lr: f32,
    /// Validation DICE with one interaction, on validating steps.
    pub val_dice: Option<f32>,
    /// Validation DICE after one corrective scribble, on validating steps.
    pub val_dice_corrected: Option<f32>,
}

/// Reads a run's log. A line that does not parse (say, the half-written
/// last line of a killed run) is an error naming its number.
pub fn read_log(path: &Path) -> Result<Vec<LogRow>, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    let bad = |line: usize, message: &str| Error::Config {
        path: path.to_owned(),
        message: format!("line {line}: {message}"),
    };
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != 6 {
            return Err(bad(n + 1, "expected 6 fields"));
        }
        let number = |i: usize| -> Result<f64, Error> {
            fields[i]
                .parse::<f64>()
                .map_err(|_| bad(n + 1, &format!("`{}` is not a number", fields[i])))
        };
        let optional = |i: usize| -> Result<Option<f32>, Error> {
            if fields[i].is_empty() {
                Ok(None)
            } else {
                number(i).map(|v| Some(v as f32))
            }
        };
        rows.push(LogRow {
            step: number(0)? as usize,
            samples: number(1)? as usize,
            loss: number(2)? as f32,
            lr: number(3)? as f32,
            val_dice: optional(4)?,
            val_dice_corrected: optional(5)?,
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rows_with_and_without_validation_and_names_a_bad_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(LOG_FILE);
        std::fs::write(
            &path,
            format!("{LOG_HEADER}\n1,16,0.75,1.0e-5,,\n2,32,0.5,2.0e-5,0.4,0.55\n"),
        )
        .expect("write");
        let rows = read_log(&path).expect("parses");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].val_dice, None);
        assert_eq!(rows[1].samples, 32);
        assert_eq!(rows[1].val_dice_corrected, Some(0.55));
        std::fs::write(&path, format!("{LOG_HEADER}\n1,16,0.7")).expect("write");
        let err = read_log(&path).expect_err("truncated");
        assert!(err.to_string().contains("line 2"), "{err}");
    }
}
