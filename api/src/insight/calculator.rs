//! The cost-and-savings calculator of "Providing support for children and families on return home
//! from care" (NSPCC, after Holmes, Loughborough 2014; updated by the University of Sussex, 2024):
//! what supporting every returning family costs, what the failed returns avoided at a target
//! breakdown rate would have cost, the net saving, and the reduction in breakdowns at which
//! support pays for itself.

/// The published unit costs.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum CostSet {
    /// 2024 (Sussex): £105,804 per child re-entering care; £7,857 average support per family.
    Published2024,
    /// 2014 (Loughborough): £61,614 per child re-entering care; £5,627 average support per family.
    Published2014,
}

impl CostSet {
    /// (cost of a re-entry per child, average support cost per returning family), in pounds.
    pub fn costs(self) -> (f64, f64) {
        match self {
            CostSet::Published2024 => (105_804.0, 7_857.0),
            CostSet::Published2014 => (61_614.0, 5_627.0),
        }
    }
}

/// What the calculator is given.
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs {
    /// Children returning home per year, by the family's support need: high, medium, low.
    pub returns: [f64; 3],
    /// Support cost per family by need level (high, medium, low), in pounds; the average of the
    /// cost set where not given.
    pub support_cost: [Option<f64>; 3],
    /// Cost of one child re-entering care, in pounds; the cost set's where not given.
    pub reentry_cost: Option<f64>,
    /// The cost set for defaults.
    pub cost_set: CostSet,
    /// Share of returns that break down now (0 to 1).
    pub breakdown_rate: f64,
    /// Share of returns that would break down with the support (0 to 1).
    pub target_rate: f64,
}

/// What the calculator answers (pounds, children and shares of returns).
#[derive(Debug, Clone, PartialEq, async_graphql::SimpleObject)]
pub struct Estimate {
    /// Children returning home per year.
    pub returns: f64,
    /// Cost of supporting every returning family.
    pub support_cost: f64,
    /// Returns that break down now.
    pub breakdowns_now: f64,
    /// Returns that would break down at the target rate.
    pub breakdowns_at_target: f64,
    /// Failed returns avoided.
    pub breakdowns_avoided: f64,
    /// What the failed returns avoided would have cost.
    pub cost_of_breakdowns_avoided: f64,
    /// Cost avoided less the cost of support (negative: a net cost).
    pub net_saving: f64,
    /// The fall in the breakdown rate (share of returns) at which support pays for itself.
    pub break_even_reduction: f64,
    /// The breakdown rate at which support pays for itself.
    pub break_even_rate: f64,
    /// Failed returns avoided at the break-even rate.
    pub break_even_breakdowns_avoided: f64,
    /// The inputs taken from the LA's records rather than given: `returns`, `breakdownRate`.
    pub from_records: Vec<String>,
}

/// Runs the calculator; the message names the input at fault.
pub fn calculate(inputs: &Inputs) -> Result<Estimate, (&'static str, String)> {
    let share = |name: &'static str, v: f64| {
        if (0.0..=1.0).contains(&v) {
            Ok(v)
        } else {
            Err((name, "give a share between 0 and 1".to_owned()))
        }
    };
    let breakdown = share("breakdownRate", inputs.breakdown_rate)?;
    let target = share("targetRate", inputs.target_rate)?;
    if inputs.returns.iter().any(|r| !r.is_finite() || *r < 0.0) {
        return Err(("returns", "give numbers of returns of 0 or more".to_owned()));
    }
    let returns: f64 = inputs.returns.iter().sum();
    if returns <= 0.0 {
        return Err(("returns", "give at least one return".to_owned()));
    }
    let (set_reentry, set_support) = inputs.cost_set.costs();
    let reentry = inputs.reentry_cost.unwrap_or(set_reentry);
    if !(reentry.is_finite() && reentry > 0.0) {
        return Err(("reentryCost", "give a cost above 0".to_owned()));
    }
    let mut support_cost = 0.0;
    for (count, cost) in inputs.returns.iter().zip(inputs.support_cost) {
        let cost = cost.unwrap_or(set_support);
        if !(cost.is_finite() && cost >= 0.0) {
            return Err(("supportCost", "give costs of 0 or more".to_owned()));
        }
        support_cost += count * cost;
    }
    let breakdowns_now = returns * breakdown;
    let breakdowns_at_target = returns * target;
    let breakdowns_avoided = breakdowns_now - breakdowns_at_target;
    let cost_of_breakdowns_avoided = breakdowns_avoided * reentry;
    let break_even_reduction = support_cost / (returns * reentry);
    Ok(Estimate {
        returns,
        support_cost,
        breakdowns_now,
        breakdowns_at_target,
        breakdowns_avoided,
        cost_of_breakdowns_avoided,
        net_saving: cost_of_breakdowns_avoided - support_cost,
        break_even_reduction,
        break_even_rate: breakdown - break_even_reduction,
        break_even_breakdowns_avoided: returns * break_even_reduction,
        from_records: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn national_2014() -> Inputs {
        // About 10,000 returns a year nationally, 53% of families with high support needs.
        Inputs {
            returns: [5_300.0, 2_700.0, 2_000.0],
            support_cost: [None; 3],
            reentry_cost: None,
            cost_set: CostSet::Published2014,
            breakdown_rate: 0.47,
            target_rate: 0.38,
        }
    }

    #[test]
    fn reproduces_the_published_2014_break_even() {
        let e = calculate(&national_2014()).unwrap();
        // Breakdowns falling from 47% to 38% …
        assert_eq!((e.break_even_rate * 100.0).round(), 38.0, "{e:?}");
        // … about 900 more successful returns a year nationally.
        assert!(
            (e.break_even_breakdowns_avoided - 900.0).abs() < 20.0,
            "{e:?}"
        );
        // At a target of 38% (the break-even, 37.9%, rounded) the saving is about nil.
        assert!(e.net_saving.abs() < 0.02 * e.support_cost, "{e:?}");
    }

    #[test]
    fn costs_by_need_level_and_a_target_below_break_even_save_money() {
        let mut i = national_2014();
        i.cost_set = CostSet::Published2024;
        i.support_cost = [Some(12_000.0), Some(6_000.0), Some(1_644.0)];
        i.target_rate = 0.30;
        let e = calculate(&i).unwrap();
        let support = 5_300.0 * 12_000.0 + 2_700.0 * 6_000.0 + 2_000.0 * 1_644.0;
        assert!((e.support_cost - support).abs() < 1e-6);
        assert!((e.breakdowns_avoided - 10_000.0 * 0.17).abs() < 1e-6);
        assert!((e.net_saving - (1_700.0 * 105_804.0 - support)).abs() < 1e-3);
        assert!(e.net_saving > 0.0);
    }

    #[test]
    fn bad_inputs_name_the_field() {
        let mut i = national_2014();
        i.breakdown_rate = 47.0;
        assert_eq!(calculate(&i).unwrap_err().0, "breakdownRate");
        let mut i = national_2014();
        i.returns = [0.0; 3];
        assert_eq!(calculate(&i).unwrap_err().0, "returns");
        let mut i = national_2014();
        i.support_cost[1] = Some(-1.0);
        assert_eq!(calculate(&i).unwrap_err().0, "supportCost");
    }
}
