//! Diagnosis code sets. The integers are part of the on-chain protocol (votes and outcomes store
//! them), so they never change; new sets get new variants instead.

use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};

/// A set of diagnosis codes that a task is voted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DiagnosisSet {
    /// Tumor present or not (the Br35H labels): 0 = no tumor, 1 = tumor.
    Binary,
    /// Tumor type: 0 = no tumor, 1 = glioma, 2 = meningioma, 3 = pituitary.
    FourClass,
}

/// A diagnosis name or code that does not belong to the set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiagnosisError {
    /// The name is not one of the set's diagnoses.
    #[error("unknown diagnosis {name:?} for the {set} set; expected one of: {expected}")]
    UnknownName {
        /// What was given.
        name: String,
        /// The set it was looked up in.
        set: DiagnosisSet,
        /// The accepted names, comma separated.
        expected: String,
    },
    /// The code is not below the set's size.
    #[error("diagnosis code {code} is out of range for the {set} set (0..{size})")]
    CodeOutOfRange {
        /// What was given.
        code: u8,
        /// The set it was looked up in.
        set: DiagnosisSet,
        /// Number of codes in the set.
        size: u8,
    },
    /// The number of classes matches no known set.
    #[error("no diagnosis set has {0} classes (known: 2 = binary, 4 = four-class)")]
    UnknownClassCount(u8),
    /// The set name is not known.
    #[error("unknown diagnosis set {0:?}; expected `binary` or `four-class`")]
    UnknownSet(String),
}

const BINARY: &[&str] = &["no-tumor", "tumor"];
const FOUR_CLASS: &[&str] = &["no-tumor", "glioma", "meningioma", "pituitary"];

impl DiagnosisSet {
    /// The names of the set's codes, indexed by code.
    pub const fn names(self) -> &'static [&'static str] {
        match self {
            Self::Binary => BINARY,
            Self::FourClass => FOUR_CLASS,
        }
    }

    /// How many codes the set has (the contract's `numClasses`).
    pub const fn len(self) -> u8 {
        self.names().len() as u8
    }

    /// Always false: every set has at least two codes.
    pub const fn is_empty(self) -> bool {
        false
    }

    /// The set with `num_classes` codes.
    pub const fn from_class_count(num_classes: u8) -> Result<Self, DiagnosisError> {
        match num_classes {
            2 => Ok(Self::Binary),
            4 => Ok(Self::FourClass),
            other => Err(DiagnosisError::UnknownClassCount(other)),
        }
    }

    /// The name of `code`.
    pub fn name(self, code: u8) -> Result<&'static str, DiagnosisError> {
        self.names().get(usize::from(code)).copied().ok_or(DiagnosisError::CodeOutOfRange {
            code,
            set: self,
            size: self.len(),
        })
    }

    /// The code of a diagnosis given by name (case-insensitive, `_` or space for `-`) or by
    /// its number.
    pub fn code(self, name_or_code: &str) -> Result<u8, DiagnosisError> {
        let wanted = name_or_code.trim().to_ascii_lowercase().replace(['_', ' '], "-");
        if let Ok(code) = wanted.parse::<u8>() {
            self.name(code)?;
            return Ok(code);
        }
        let aliases: &[(&str, &str)] = &[("no", "no-tumor"), ("notumor", "no-tumor"), ("yes", "tumor")];
        let canonical =
            aliases.iter().find(|(alias, _)| *alias == wanted).map_or(wanted.as_str(), |(_, name)| name);
        self.names().iter().position(|name| *name == canonical).map(|code| code as u8).ok_or_else(|| {
            DiagnosisError::UnknownName {
                name: name_or_code.to_owned(),
                set: self,
                expected: self.names().join(", "),
            }
        })
    }
}

impl fmt::Display for DiagnosisSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Binary => "binary",
            Self::FourClass => "four-class",
        })
    }
}

impl FromStr for DiagnosisSet {
    type Err = DiagnosisError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "binary" | "br35h" => Ok(Self::Binary),
            "four-class" | "four_class" | "fourclass" | "nickparvar" => Ok(Self::FourClass),
            _ => Err(DiagnosisError::UnknownSet(s.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable() {
        assert_eq!(DiagnosisSet::Binary.code("no-tumor"), Ok(0));
        assert_eq!(DiagnosisSet::Binary.code("tumor"), Ok(1));
        assert_eq!(DiagnosisSet::FourClass.code("no-tumor"), Ok(0));
        assert_eq!(DiagnosisSet::FourClass.code("glioma"), Ok(1));
        assert_eq!(DiagnosisSet::FourClass.code("meningioma"), Ok(2));
        assert_eq!(DiagnosisSet::FourClass.code("pituitary"), Ok(3));
    }

    #[test]
    fn names_round_trip_and_aliases_parse() {
        for set in [DiagnosisSet::Binary, DiagnosisSet::FourClass] {
            for code in 0..set.len() {
                assert_eq!(set.code(set.name(code).unwrap()), Ok(code));
                assert_eq!(set.code(&code.to_string()), Ok(code));
            }
        }
        assert_eq!(DiagnosisSet::Binary.code("Yes"), Ok(1));
        assert_eq!(DiagnosisSet::FourClass.code("notumor"), Ok(0));
        assert_eq!(DiagnosisSet::FourClass.code("No Tumor"), Ok(0));
    }

    #[test]
    fn bad_input_names_the_problem() {
        let err = DiagnosisSet::Binary.code("glioma").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown diagnosis \"glioma\" for the binary set; expected one of: no-tumor, tumor"
        );
        assert!(matches!(
            DiagnosisSet::Binary.code("2"),
            Err(DiagnosisError::CodeOutOfRange { code: 2, .. })
        ));
        assert_eq!(DiagnosisSet::from_class_count(3), Err(DiagnosisError::UnknownClassCount(3)));
        assert_eq!("binary".parse::<DiagnosisSet>(), Ok(DiagnosisSet::Binary));
        assert!("ternary".parse::<DiagnosisSet>().is_err());
    }
}
