//! Bounty pricing: the less confident the encrypted model, the more a second opinion is worth.
//!
//! With `c` the calibrated confidence of the predicted class in basis points and `n` classes,
//! the lowest confidence an argmax can have is chance, `floor = 10000 / n`. The uncertainty is
//!
//! ```text
//! u = clamp((10000 - c) / (10000 - floor), 0, 1)
//! bounty = min + (max - min) * u            (integer arithmetic, rounded down)
//! ```
//!
//! so a certain model (`c = 10000`) pays `min`, a model no better than chance pays `max`, and
//! the bounty never increases with confidence. Higher bounties need more reputation: the
//! reputation required is that of the highest [`ReputationTier`] whose threshold the bounty
//! reaches, so the most valuable (least certain) scans go to doctors with a record of agreeing
//! with the final diagnosis.

use serde::{Deserialize, Serialize};

use crate::task::ConfidenceBps;

/// A step in the reputation requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReputationTier {
    /// Bounties from this amount (token units) up belong to the tier.
    pub from_bounty: u128,
    /// Reputation a doctor needs to claim a seat on such a task (the contract's `uint32`).
    pub min_reputation: u32,
}

/// How confidence maps to a bounty and a bounty to a reputation requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BountyPolicy {
    /// Bounty of a fully confident prediction (token units).
    pub min_bounty: u128,
    /// Bounty of a prediction no better than chance (token units).
    pub max_bounty: u128,
    /// Reputation tiers, by ascending `from_bounty`.
    pub tiers: Vec<ReputationTier>,
}

/// A policy that cannot price anything consistently.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PricingError {
    /// The minimum bounty exceeds the maximum.
    #[error("bounty policy minimum {min} exceeds its maximum {max}")]
    InvertedRange {
        /// The minimum.
        min: u128,
        /// The maximum.
        max: u128,
    },
    /// The maximum bounty does not fit the contract's uint96.
    #[error("bounty policy maximum {0} does not fit in uint96")]
    TooLarge(u128),
    /// Tiers must be sorted by threshold with non-decreasing requirements.
    #[error("reputation tiers must ascend in both bounty and reputation (tier {0} does not)")]
    UnsortedTiers(usize),
    /// A diagnosis set needs at least two classes.
    #[error("a task needs at least 2 classes, got {0}")]
    TooFewClasses(u8),
    /// 200 whole tokens of a token with this many decimals do not fit the contract's uint96.
    #[error("a token with {0} decimals cannot express the dev policy's 200-token bounty in uint96")]
    TooManyDecimals(u8),
}

/// The largest bounty the contract can hold (`uint96`).
pub const MAX_BOUNTY: u128 = (1u128 << 96) - 1;

impl BountyPolicy {
    /// The policy of the dev chain's 6-decimal test stablecoin: 20 to 200 tokens, reputation 2
    /// from 120 (confidence below about 71% on a binary task) and 5 from 170.
    pub fn dev_default() -> Self {
        Self::dev_with_unit(1_000_000)
    }

    /// The dev policy in a token with `decimals` (the same whole-token amounts).
    pub fn dev_for_decimals(decimals: u8) -> Result<Self, PricingError> {
        let unit = 10u128
            .checked_pow(u32::from(decimals))
            .filter(|unit| unit.checked_mul(200).is_some_and(|max| max <= MAX_BOUNTY));
        let policy = Self::dev_with_unit(unit.ok_or(PricingError::TooManyDecimals(decimals))?);
        policy.validate()?;
        Ok(policy)
    }

    fn dev_with_unit(unit: u128) -> Self {
        Self {
            min_bounty: 20 * unit,
            max_bounty: 200 * unit,
            tiers: vec![
                ReputationTier { from_bounty: 0, min_reputation: 0 },
                ReputationTier { from_bounty: 120 * unit, min_reputation: 2 },
                ReputationTier { from_bounty: 170 * unit, min_reputation: 5 },
            ],
        }
    }

    /// Checks the policy's own consistency.
    pub fn validate(&self) -> Result<(), PricingError> {
        if self.min_bounty > self.max_bounty {
            return Err(PricingError::InvertedRange { min: self.min_bounty, max: self.max_bounty });
        }
        if self.max_bounty > MAX_BOUNTY {
            return Err(PricingError::TooLarge(self.max_bounty));
        }
        for (i, pair) in self.tiers.windows(2).enumerate() {
            if pair[1].from_bounty <= pair[0].from_bounty || pair[1].min_reputation < pair[0].min_reputation {
                return Err(PricingError::UnsortedTiers(i + 1));
            }
        }
        Ok(())
    }

    /// The bounty for a prediction with `confidence` among `num_classes` classes.
    pub fn bounty(&self, confidence: ConfidenceBps, num_classes: u8) -> Result<u128, PricingError> {
        self.validate()?;
        if num_classes < 2 {
            return Err(PricingError::TooFewClasses(num_classes));
        }
        let full = u128::from(ConfidenceBps::MAX);
        let floor = full / u128::from(num_classes);
        let doubt = full - u128::from(confidence.get());
        // (max - min) < 2^96 and doubt <= 10^4, so the product stays far below u128::MAX.
        let uncertainty_bps = (doubt * full / (full - floor)).min(full);
        Ok(self.min_bounty + (self.max_bounty - self.min_bounty) * uncertainty_bps / full)
    }

    /// The reputation a doctor needs for a task paying `bounty`.
    pub fn min_reputation(&self, bounty: u128) -> u32 {
        self.tiers
            .iter()
            .take_while(|tier| tier.from_bounty <= bounty)
            .last()
            .map_or(0, |tier| tier.min_reputation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn policy() -> impl Strategy<Value = BountyPolicy> {
        (
            0u128..1_000_000_000,
            0u128..1_000_000_000,
            proptest::collection::vec((1u128..1_000_000, 0u32..5), 0..5),
        )
            .prop_map(|(a, b, steps)| {
                let mut from = 0;
                let mut rep = 0;
                let tiers = steps
                    .into_iter()
                    .map(|(step, more)| {
                        from += step;
                        rep += more;
                        ReputationTier { from_bounty: from, min_reputation: rep }
                    })
                    .collect();
                BountyPolicy { min_bounty: a.min(b), max_bounty: a.max(b), tiers }
            })
    }

    #[test]
    fn endpoints_are_min_and_max() {
        let p = BountyPolicy::dev_default();
        assert_eq!(p.bounty(ConfidenceBps::new(10_000).unwrap(), 2), Ok(p.min_bounty));
        assert_eq!(p.bounty(ConfidenceBps::new(5_000).unwrap(), 2), Ok(p.max_bounty));
        assert_eq!(p.bounty(ConfidenceBps::new(2_500).unwrap(), 4), Ok(p.max_bounty));
        // Halfway between chance and certainty for a binary task.
        assert_eq!(p.bounty(ConfidenceBps::new(7_500).unwrap(), 2), Ok(110_000_000));
    }

    #[test]
    fn tiers_pick_the_highest_reached() {
        let p = BountyPolicy::dev_default();
        assert_eq!(p.min_reputation(0), 0);
        assert_eq!(p.min_reputation(119_999_999), 0);
        assert_eq!(p.min_reputation(120_000_000), 2);
        assert_eq!(p.min_reputation(200_000_000), 5);
    }

    #[test]
    fn inconsistent_policies_are_rejected() {
        let mut p = BountyPolicy::dev_default();
        p.min_bounty = p.max_bounty + 1;
        assert!(matches!(
            p.bounty(ConfidenceBps::new(9_000).unwrap(), 2),
            Err(PricingError::InvertedRange { .. })
        ));
        let mut p = BountyPolicy::dev_default();
        p.tiers.swap(1, 2);
        assert_eq!(p.validate(), Err(PricingError::UnsortedTiers(2)));
        assert_eq!(
            BountyPolicy::dev_default().bounty(ConfidenceBps::new(9_000).unwrap(), 1),
            Err(PricingError::TooFewClasses(1))
        );
    }

    proptest! {
        #[test]
        fn bounty_is_non_increasing_in_confidence(
            p in policy(), a in 0u16..=10_000, b in 0u16..=10_000, classes in 2u8..=16,
        ) {
            let (lo, hi) = (a.min(b), a.max(b));
            let at = |c| p.bounty(ConfidenceBps::new(c).unwrap(), classes).unwrap();
            prop_assert!(at(lo) >= at(hi));
        }

        #[test]
        fn bounty_stays_within_bounds(p in policy(), c in 0u16..=10_000, classes in 2u8..=16) {
            let bounty = p.bounty(ConfidenceBps::new(c).unwrap(), classes).unwrap();
            prop_assert!(bounty >= p.min_bounty && bounty <= p.max_bounty);
        }

        #[test]
        fn min_reputation_is_non_decreasing_in_bounty(p in policy(), a in 0u128..2_000_000_000, b in 0u128..2_000_000_000) {
            prop_assert!(p.min_reputation(a.min(b)) <= p.min_reputation(a.max(b)));
        }
    }

    #[test]
    fn the_dev_policy_scales_with_the_tokens_decimals() {
        assert_eq!(BountyPolicy::dev_for_decimals(6).unwrap(), BountyPolicy::dev_default());
        let eighteen = BountyPolicy::dev_for_decimals(18).unwrap();
        assert_eq!(eighteen.max_bounty, 200 * 10u128.pow(18));
        assert_eq!(BountyPolicy::dev_for_decimals(27), Err(PricingError::TooManyDecimals(27)));
        assert_eq!(BountyPolicy::dev_for_decimals(255), Err(PricingError::TooManyDecimals(255)));
    }
}
