//! The survey design: how the sample was drawn and weighted. [`spec::DesignSpec`] is the
//! design TOML (the file form of the design flags of `estimate`, `gaps`, `weight`, `compare`).

pub mod spec;

pub use spec::DesignSpec;
