//! The differential conformance suite's parts: the cases ([`case`]), the two builders
//! ([`build`]), images read back from docker-archives ([`image`]), what is compared and
//! what is noise ([`compare`]), current BuildKit's answers where the daemon's v0.8 differs
//! ([`expect`]), and README's lists the suite keeps true ([`readme`]).

pub mod build;
pub mod case;
pub mod compare;
pub mod expect;
pub mod image;
pub mod readme;
