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
