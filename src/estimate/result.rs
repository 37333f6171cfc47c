//! The tidy table of `tasa estimate` (design section 3): these columns, in this order.

use super::estimator::Estimate;
use super::reliability::Flag;
use crate::output::{Cell, TidyTable};

/// The column names, in order.
pub const COLUMNS: [&str; 17] = [
    "indicator",
    "stat",
    "variable",
    "category",
    "by",
    "group",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "df",
    "cv",
    "deff",
    "n",
    "n_eff",
    "pop_size",
    "flag",
];

/// The result rows as a tidy table; suppressed rows keep `n`, `df` and `flag` and leave the
/// numbers empty unless `keep_suppressed`.
pub fn table(estimates: &[Estimate], keep_suppressed: bool) -> TidyTable {
    let mut t = TidyTable::new(COLUMNS);
    for e in estimates {
        let hide = e.flag == Flag::Suppressed && !keep_suppressed;
        let num = |x: f64| if hide { Cell::Empty } else { Cell::from(x) };
        t.push(vec![
            e.indicator.clone().into(),
            e.stat.name().into(),
            e.variable.clone().into(),
            e.category.clone().into(),
            e.by.clone().into(),
            e.group.clone().into(),
            num(e.estimate),
            num(e.se),
            num(e.ci_low),
            num(e.ci_high),
            e.df.map_or(Cell::Empty, Cell::from),
            num(finite(e.cv)),
            num(finite(e.deff)),
            Cell::Int(e.n as i64),
            num(finite(e.n_eff)),
            num(e.pop_size),
            e.flag.as_str().into(),
        ]);
    }
    t
}

fn finite(x: f64) -> f64 {
    if x.is_finite() {
        x
    } else {
        f64::NAN
    }
}
