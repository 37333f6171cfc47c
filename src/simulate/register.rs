//! Synthetic register metrics that go with a simulated population (`tasa simulate
//! --classification FILE`): employment-service counts per municipality, period and language
//! group, and medians per employment area, scaled to the population's areas.
//!
//! Each area's job seekers are its simulated population (all periods' sizes drift around it),
//! split over the area's municipalities in the classification and over language groups (the
//! foreign-language share is the area's share of people born abroad; the Swedish-speaking share
//! is drawn per area). Every count is a binomial draw whose probability moves with a latent
//! disadvantage `z = 0.3 × area effect + group effect + period effect`, so foreign-language job
//! seekers wait longer and are activated less, as in the survey's answers. The numbers are
//! synthetic; only their scale is meant to be realistic.

use super::population::Frame;
use crate::output::{Cell, TidyTable};
use crate::register::classification::Classification;
use crate::register::metrics::Level;
use crate::table::format_number;
use crate::{Error, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Binomial, Distribution, Normal};

/// The periods written, oldest first.
pub const PERIODS: [&str; 2] = ["2023", "2025"];

/// One area of the simulated population.
#[derive(Debug, Clone)]
pub struct AreaFacts {
    pub code: String,
    pub job_seekers: usize,
    /// The area's latent disadvantage.
    pub effect: f64,
    /// Share of people born abroad.
    pub foreign: f64,
}

/// The areas of a frame.
pub fn area_facts(frame: &Frame) -> Vec<AreaFacts> {
    // The native-born have the instrument's first (smallest) origin code.
    let native = frame.origin.iter().copied().fold(f64::INFINITY, f64::min);
    let mut foreign = vec![0usize; frame.strata.len()];
    let mut sizes = vec![0usize; frame.strata.len()];
    for i in 0..frame.len() {
        let s = frame.stratum_of(i);
        sizes[s] += 1;
        foreign[s] += usize::from(frame.origin[i] != native);
    }
    frame
        .strata
        .iter()
        .enumerate()
        .map(|(s, st)| AreaFacts {
            code: format_number(st.code),
            job_seekers: st.size,
            effect: st.effect,
            foreign: foreign[s] as f64 / sizes[s].max(1) as f64,
        })
        .collect()
}

/// The register files' tables.
#[derive(Debug, Clone)]
pub struct RegisterData {
    /// Per municipality, period and language group (and `all`).
    pub metrics: TidyTable,
    /// Per area, period and language group (and `all`).
    pub medians: TidyTable,
}

/// Columns of the municipality file after the keys.
const COUNTS: [&str; 14] = [
    "job_seekers",
    "unemployed",
    "long_term_unemployed",
    "activated",
    "activation_base",
    "new_job_seekers",
    "plan_within_2w",
    "plans_made",
    "days_to_plan_sum",
    "services_started",
    "days_to_service_sum",
    "service_ended",
    "employed_3m",
    "foreign_language",
];

/// Language groups: code and latent effect (Finnish, Swedish, foreign-language speakers).
const GROUPS: [(&str, f64); 3] = [("1", 0.0), ("2", -0.1), ("3", 0.6)];

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Generates the register tables for the areas of a simulated population.
pub fn generate(
    areas: &[AreaFacts],
    classification: &Classification,
    seed: u64,
) -> Result<RegisterData> {
    let to_area = classification.mapping(Level::Municipality, Level::Area)?;
    let municipalities = classification.codes(Level::Municipality);
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5245_4749_5354_4552);
    let mut keys: Vec<String> = vec![
        "municipality".into(),
        "period".into(),
        "language_group".into(),
    ];
    keys.extend(COUNTS.iter().map(|s| s.to_string()));
    let mut metrics = TidyTable::new(keys);
    let mut medians = TidyTable::new([
        "area",
        "period",
        "language_group",
        "days_to_service_median",
        "months_to_b1_median",
    ]);
    let draw = |rng: &mut ChaCha8Rng, n: u64, p: f64| -> u64 {
        Binomial::new(n, p.clamp(0.0, 1.0)).map_or(0, |b| b.sample(rng))
    };
    let noise = Normal::new(0.0, 1.0).map_err(|e| Error::Usage(e.to_string()))?;
    for area in areas {
        let members: Vec<&String> = municipalities
            .iter()
            .filter(|m| to_area.get(*m) == Some(&area.code))
            .collect();
        if members.is_empty() {
            return Err(Error::Usage(format!(
                "the classification has no municipality in area {}; every simulated area needs one",
                area.code
            )));
        }
        // The first municipality is the area's centre.
        let weights: Vec<f64> = (0..members.len())
            .map(|k| {
                if k == 0 {
                    3.0
                } else {
                    rng.random_range(0.2..1.0)
                }
            })
            .collect();
        let wsum: f64 = weights.iter().sum();
        let swedish = (0.03f64.ln() + 0.9 * noise.sample(&mut rng))
            .exp()
            .clamp(0.003, 0.35);
        for (t, period) in PERIODS.iter().enumerate() {
            let growth = if t + 1 == PERIODS.len() {
                1.0
            } else {
                1.05 + 0.02 * noise.sample(&mut rng)
            };
            let period_effect = -0.08 * t as f64;
            let area_total = area.job_seekers as f64 * growth;
            for (m, w) in members.iter().zip(&weights) {
                let seekers = (area_total * w / wsum).round();
                let sv = (seekers * swedish).round();
                let fo = (seekers * area.foreign).round();
                let sizes = [(seekers - sv - fo).max(0.0), sv, fo];
                let mut total = [0u64; COUNTS.len()];
                for ((g, effect), size) in GROUPS.iter().zip(sizes) {
                    let z = 0.3 * area.effect + effect + period_effect;
                    let j = size as u64;
                    let u = draw(&mut rng, j, logistic(0.25 + 0.3 * z));
                    let long = draw(&mut rng, u, logistic(-0.85 + 0.4 * z));
                    let act = draw(&mut rng, j - u, logistic(-0.2 - 0.35 * z));
                    let new = draw(&mut rng, j, 0.35);
                    let on_time = draw(&mut rng, new, logistic(1.1 - 0.35 * z));
                    let plans = draw(&mut rng, new, 0.9);
                    let plan_days = 12.0 * (0.15 * z + 0.05 * noise.sample(&mut rng)).exp();
                    let started = draw(&mut rng, u, 0.6);
                    let service_days = 38.0 * (0.2 * z + 0.05 * noise.sample(&mut rng)).exp();
                    let ended = draw(&mut rng, j, 0.3);
                    let employed = draw(&mut rng, ended, logistic(-1.2 - 0.35 * z));
                    let row = [
                        j,
                        u,
                        long,
                        act,
                        act + u,
                        new,
                        on_time,
                        plans,
                        (plans as f64 * plan_days).round() as u64,
                        started,
                        (started as f64 * service_days).round() as u64,
                        ended,
                        employed,
                        0,
                    ];
                    for (acc, x) in total.iter_mut().zip(row) {
                        *acc += x;
                    }
                    // The foreign-language count belongs to the whole municipality only.
                    let mut cells = key_cells(m, period, g);
                    cells.extend(row[..COUNTS.len() - 1].iter().map(|&x| Cell::Int(x as i64)));
                    cells.push(Cell::Empty);
                    metrics.push(cells);
                }
                total[COUNTS.len() - 1] = fo as u64;
                let mut cells = key_cells(m, period, "all");
                cells.extend(total.iter().map(|&x| Cell::Int(x as i64)));
                metrics.push(cells);
            }
            // Medians per area: days to the first service, months to B1.1 (foreign-language).
            let mut all_days = 0.0;
            for (g, effect) in GROUPS {
                let z = 0.3 * area.effect + effect + period_effect;
                let days = (30.0 * (0.25 * z + 0.08 * noise.sample(&mut rng)).exp()).round();
                all_days += days / GROUPS.len() as f64;
                let months = (g == "3").then(|| {
                    (10.0 * 30.0 * (0.1 * area.effect + 0.1 * noise.sample(&mut rng)).exp()).round()
                        / 10.0
                });
                medians.push(vec![
                    area.code.clone().into(),
                    (*period).into(),
                    g.into(),
                    Cell::Num(days),
                    months.map_or(Cell::Empty, Cell::Num),
                ]);
            }
            medians.push(vec![
                area.code.clone().into(),
                (*period).into(),
                "all".into(),
                Cell::Num(all_days.round()),
                Cell::Empty,
            ]);
        }
    }
    Ok(RegisterData { metrics, medians })
}

fn key_cells(municipality: &str, period: &str, group: &str) -> Vec<Cell> {
    // Municipality codes are three digits, as Statistics Finland writes them.
    let code = match municipality.parse::<u32>() {
        Ok(n) => format!("{n:03}"),
        Err(_) => municipality.to_string(),
    };
    vec![code.into(), period.into(), group.into()]
}

/// The metrics file of the municipality table.
pub const METRICS_TOML: &str = r#"# Register metrics of employment services per municipality, period and language group
# (synthetic data made by `tasa simulate --classification`). `tasa join` reads this file
# beside metrics.csv: the keys, and how each metric is combined into employment areas and
# regions (counts summed; shares and means recomputed from their numerators and denominators).

[keys]
unit = "municipality"
level = "municipality"
period = "period"
group = "language_group"   # codes of the survey variable language_group: 1 fi, 2 sv, 3 other
total = "all"              # rows for the whole municipality
reference = "1"

[metrics.job_seekers]
kind = "count"
unit = "persons"
label = { fi = "Työnhakijat", sv = "Arbetssökande", en = "Job seekers" }

[metrics.unemployed]
kind = "count"
unit = "persons"
label = { fi = "Työttömät työnhakijat", sv = "Arbetslösa arbetssökande", en = "Unemployed job seekers" }

[metrics.long_term_unemployed]
kind = "count"
unit = "persons"
label = { fi = "Pitkäaikaistyöttömät", sv = "Långtidsarbetslösa", en = "Long-term unemployed" }

[metrics.long_term_share]
kind = "share"
numerator = "long_term_unemployed"
denominator = "unemployed"
polarity = "lower_better"
label = { fi = "Pitkäaikaistyöttömien osuus työttömistä", sv = "Långtidsarbetslösas andel av de arbetslösa", en = "Long-term unemployed, share of the unemployed" }

[metrics.activation_rate]
kind = "share"
numerator = "activated"
denominator = "activation_base"
polarity = "higher_better"
label = { fi = "Aktivointiaste", sv = "Aktiveringsgrad", en = "Activation rate" }

[metrics.plan_on_time_share]
kind = "share"
numerator = "plan_within_2w"
denominator = "new_job_seekers"
polarity = "higher_better"
label = { fi = "Työllistymissuunnitelma kahdessa viikossa", sv = "Sysselsättningsplan inom två veckor", en = "Employment plan within two weeks" }

[metrics.days_to_plan_mean]
kind = "ratio"
numerator = "days_to_plan_sum"
denominator = "plans_made"
unit = "days"
polarity = "lower_better"
label = { fi = "Päiviä ilmoittautumisesta suunnitelmaan (keskiarvo)", sv = "Dagar från anmälan till plan (medeltal)", en = "Days from registration to the plan (mean)" }

[metrics.days_to_service_mean]
kind = "ratio"
numerator = "days_to_service_sum"
denominator = "services_started"
unit = "days"
polarity = "lower_better"
label = { fi = "Päiviä ensimmäiseen palveluun (keskiarvo)", sv = "Dagar till den första tjänsten (medeltal)", en = "Days to the first service (mean)" }

[metrics.employed_3m_share]
kind = "share"
numerator = "employed_3m"
denominator = "service_ended"
polarity = "higher_better"
label = { fi = "Työllisenä kolme kuukautta palvelun jälkeen", sv = "Sysselsatta tre månader efter tjänsten", en = "Employed three months after a service" }

[metrics.foreign_language_share]
kind = "share"
numerator = "foreign_language"
denominator = "job_seekers"
label = { fi = "Vieraskielisten osuus työnhakijoista", sv = "Främmandespråkigas andel av de arbetssökande", en = "Foreign-language speakers, share of job seekers" }
"#;

/// The metrics file of the area medians.
pub const MEDIANS_TOML: &str = r#"# Medians per employment area, period and language group (synthetic data made by
# `tasa simulate --classification`). Medians cannot be combined across areas: `tasa join`
# uses them only at the area level, where the register gives them.

[keys]
unit = "area"
level = "area"
period = "period"
group = "language_group"
total = "all"
reference = "1"

[metrics.days_to_service_median]
kind = "median"
unit = "days"
polarity = "lower_better"
label = { fi = "Päiviä ensimmäiseen palveluun (mediaani)", sv = "Dagar till den första tjänsten (median)", en = "Days to the first service (median)" }

[metrics.months_to_b1_median]
kind = "median"
unit = "months"
polarity = "lower_better"
label = { fi = "Kuukausia suomen tai ruotsin taitotasoon B1.1 (mediaani)", sv = "Månader till språknivå B1.1 i finska eller svenska (median)", en = "Months to B1.1 in Finnish or Swedish (median)" }
"#;
