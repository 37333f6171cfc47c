//! Numerical care at scale: ten million rows of weights 0.1 and values near 10⁹ lose no
//! precision (naive summation of the weights is off by about 1.6e-10 relative).

use super::estimand::{Stat, Target};
use super::estimator::{estimate, DfChoice, Settings};
use super::quantile::QRule;
use super::reliability::Rules;
use crate::design::{Design, DesignOptions};
use crate::table::{Column, Table};

#[test]
fn ten_million_rows_keep_their_precision() {
    let n = 10_000_000usize;
    let y: Vec<f64> = (0..n).map(|i| 1e9 + (i % 2) as f64).collect();
    let table = Table::from_columns(vec![
        Column::num("y", y.clone()),
        Column::num("w", vec![0.1; n]),
    ])
    .unwrap();
    let options = DesignOptions {
        weight: Some("w".into()),
        ..Default::default()
    };
    let design = Design::build(&table, &options).unwrap();
    let target = Target {
        indicator: "y".into(),
        stat: Stat::Mean,
        variable: "y".into(),
        category: String::new(),
        y,
        x: None,
        deferred: false,
    };
    let rows: Vec<u32> = (0..n as u32).collect();
    let settings = Settings {
        ci: None,
        level: 0.95,
        df: DfChoice::Infinite,
        qrule: QRule::Math,
        rules: Rules::default(),
    };
    let e = estimate(
        &design,
        &target,
        "",
        "",
        &rows,
        design.degf_rows(&rows),
        &settings,
    )
    .unwrap();
    assert_eq!(
        e.pop_size, 1_000_000.0,
        "compensated sum of 10^7 weights of 0.1"
    );
    assert_eq!(e.estimate, 1e9 + 0.5);
    // SE of a mean of 0/1 deviations with p = 1/2: sqrt(0.25 * n/(n-1) / n).
    let se = (0.25 / (n as f64 - 1.0)).sqrt();
    assert!((e.se - se).abs() / se < 1e-9, "{} vs {se}", e.se);
}
