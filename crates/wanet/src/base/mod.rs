//! Leaf helpers every part of the network uses: numbers, identifiers, time, errors, the
//! verified-name certificates and what the state store shares with the rest.

pub mod certs;
pub mod clock;
pub mod durability;
pub mod errors;
pub mod ids;
pub mod phone;
