//! WhatsApp's own (first-party) sticker packs, the same for every business: the coreapp reads
//! them with `GetStickerPacks` (spec onprem-stickerpacks §4).

use serde_json::{json, Value};
use wa_netproto::Response;

/// A sticker: its id and emojis.
type StickerDef = (&'static str, &'static [&'static str]);

/// (pack id, name, stickers). Ids are fixed so that tests and integrations can rely on them
/// across restarts.
const PACKS: &[(&str, &str, &[StickerDef])] = &[
    (
        "whatsapp-komo",
        "Komo",
        &[
            ("13aaecab-2485-4255-a0a7-97a2be6906b9", &["👍", "🐰"]),
            ("5d1c7e0a-7b57-4c8e-9a57-2f0f3c1b6a01", &["😂"]),
            ("8f3a2b19-61d4-4f0e-8a44-9c1e5f7d2b02", &["❤️", "😍"]),
        ],
    ),
    (
        "HowAreYou",
        "How Are You?",
        &[
            ("c2b7e8d4-0a1f-4b3c-9d6e-7f8a9b0c1d03", &["👋"]),
            ("e4d3c2b1-a098-4765-8432-10fedcba9804", &["🙂", "👌"]),
        ],
    ),
];

pub fn first_party() -> Response {
    let packs = PACKS
        .iter()
        .map(|(id, name, stickers)| {
            let stickers: Vec<Value> = stickers
                .iter()
                .enumerate()
                .map(|(index, (sticker_id, emojis))| {
                    json!({"index": index.to_string(), "id": sticker_id, "emojis": emojis})
                })
                .collect();
            json!({"id": id, "publisher": "WhatsApp", "name": name, "stickers": stickers})
        })
        .collect();
    Response::StickerPacks { packs }
}
