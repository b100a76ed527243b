//! What the network holds, as data with its own rules: consumers and what their phones
//! received, registration codes, templates, catalogs, media, sticker packs, and the scenario
//! entries waiting for a number to register.

pub mod catalogs;
pub mod codes;
pub mod directory;
pub mod media;
pub mod pending;
pub mod stickers;
pub mod submissions;
pub mod template_layout;
pub mod templates;
