//! Questionnaires as data: the instrument file ([`spec`]), its checked form ([`model`]),
//! derived variables ([`derive`]), indicator values per respondent ([`indicator`]) and the
//! linter behind `tasa instrument check` ([`check`]).

pub mod derive;
pub mod indicator;
pub mod model;
pub mod spec;

pub use model::{
    Definition, Derived, DerivedRule, Dimension, Finding, Indicator, Instrument, Item, Scale,
    Severity,
};

/// The bundled service-equality instrument and its example responses with the items and
/// derived variables prepared: what unit tests across modules estimate on.
#[cfg(test)]
pub(crate) fn bundled() -> (Instrument, crate::table::Table) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let inst = Instrument::load(&root.join("instruments/service-equality.toml")).unwrap();
    let raw = crate::table::read::read_table(
        &root.join("examples/service-equality/responses.csv"),
        &crate::table::read::ReadOptions::default(),
    )
    .unwrap();
    let table = derive::prepare(&inst, raw, derive::InvalidCodes::Error).unwrap();
    (inst, table)
}
