//! The change-detection corpus: the cases, and the reference they are judged by.

pub mod cases;
pub mod reference;
