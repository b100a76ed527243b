//! Third-party sticker packs and their stickers (spec onprem-stickerpacks §5–§6). Sticker
//! indexes are never reused, so an index a client cached never names a different sticker.

use diesel::prelude::*;

use crate::db::{write_transaction, DbConnection};
use crate::schema::{stickerpacks, stickers};
use crate::{clock::unix_now, StoreError};

/// A pack's metadata.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = stickerpacks)]
pub struct StickerPack {
    pub id: String,
    pub publisher: String,
    pub name: String,
    pub ios_app_store_link: Option<String>,
    pub android_app_store_link: Option<String>,
}

/// Fields of a pack update; `None` keeps the stored value.
#[derive(Debug, Default, Clone, AsChangeset)]
#[diesel(table_name = stickerpacks)]
pub struct StickerPackChanges {
    pub publisher: Option<String>,
    pub name: Option<String>,
    pub ios_app_store_link: Option<String>,
    pub android_app_store_link: Option<String>,
}

/// One sticker of a pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sticker {
    pub index: i32,
    /// What `POST /v1/messages` takes as `sticker.id`.
    pub id: String,
    pub image_data_id: String,
    pub emojis: Vec<String>,
}

/// The stored columns of one sticker a [`Sticker`] is made of (its index is the key).
#[derive(Queryable, Selectable)]
#[diesel(table_name = stickers)]
struct StickerRow {
    sticker_id: String,
    image_data_id: String,
    emojis: String,
}

/// Fields of a sticker update; a new image comes with a new sticker id.
#[derive(Debug, Default, Clone)]
pub struct StickerChanges {
    pub image: Option<(String, String)>,
    pub emojis: Option<Vec<String>>,
}

/// Emojis are stored one per line (a single emoji never contains a line break).
fn join_emojis(emojis: &[String]) -> String {
    emojis.join("\n")
}

fn split_emojis(stored: &str) -> Vec<String> {
    stored
        .split('\n')
        .filter(|e| !e.is_empty())
        .map(str::to_string)
        .collect()
}

pub(crate) fn create(conn: &mut DbConnection, pack: &StickerPack) -> Result<(), StoreError> {
    diesel::insert_into(stickerpacks::table)
        .values((
            stickerpacks::id.eq(&pack.id),
            stickerpacks::publisher.eq(&pack.publisher),
            stickerpacks::name.eq(&pack.name),
            stickerpacks::ios_app_store_link.eq(&pack.ios_app_store_link),
            stickerpacks::android_app_store_link.eq(&pack.android_app_store_link),
            stickerpacks::next_index.eq(0),
            stickerpacks::created_at.eq(unix_now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Pack ids, oldest first.
pub(crate) fn ids(conn: &mut DbConnection) -> Result<Vec<String>, StoreError> {
    Ok(stickerpacks::table
        .order((stickerpacks::created_at, stickerpacks::id))
        .select(stickerpacks::id)
        .load(conn)?)
}

pub(crate) fn find(conn: &mut DbConnection, id: &str) -> Result<Option<StickerPack>, StoreError> {
    Ok(stickerpacks::table
        .find(id)
        .select(StickerPack::as_select())
        .first(conn)
        .optional()?)
}

fn exists(conn: &mut DbConnection, id: &str) -> Result<bool, StoreError> {
    Ok(stickerpacks::table
        .find(id)
        .select(stickerpacks::id)
        .first::<String>(conn)
        .optional()?
        .is_some())
}

/// False when there is no such pack.
pub(crate) fn update(
    conn: &mut DbConnection,
    id: &str,
    changes: &StickerPackChanges,
) -> Result<bool, StoreError> {
    write_transaction(conn, |conn| {
        let exists = exists(conn, id)?;
        if exists {
            diesel::update(stickerpacks::table.find(id))
                .set(changes)
                .execute(conn)?;
        }
        Ok(exists)
    })
}

/// Deletes the pack with its stickers; false when there is no such pack.
pub(crate) fn delete(conn: &mut DbConnection, id: &str) -> Result<bool, StoreError> {
    write_transaction(conn, |conn| {
        diesel::delete(stickers::table.filter(stickers::pack_id.eq(id))).execute(conn)?;
        let deleted = diesel::delete(stickerpacks::table.find(id)).execute(conn)?;
        Ok(deleted > 0)
    })
}

/// Adds a sticker under the pack's next index, which it returns; `None` when there is no such
/// pack.
pub(crate) fn add_sticker(
    conn: &mut DbConnection,
    pack_id: &str,
    sticker_id: &str,
    image_data_id: &str,
    emojis: &[String],
) -> Result<Option<i32>, StoreError> {
    let emojis = join_emojis(emojis);
    write_transaction(conn, |conn| {
        let Some(index) = stickerpacks::table
            .find(pack_id)
            .select(stickerpacks::next_index)
            .first::<i32>(conn)
            .optional()?
        else {
            return Ok(None);
        };
        diesel::update(stickerpacks::table.find(pack_id))
            .set(stickerpacks::next_index.eq(index + 1))
            .execute(conn)?;
        diesel::insert_into(stickers::table)
            .values((
                stickers::pack_id.eq(pack_id),
                stickers::sticker_index.eq(index),
                stickers::sticker_id.eq(sticker_id),
                stickers::image_data_id.eq(image_data_id),
                stickers::emojis.eq(&emojis),
            ))
            .execute(conn)?;
        Ok(Some(index))
    })
}

/// The pack's sticker indexes in order; `None` when there is no such pack.
pub(crate) fn sticker_indexes(
    conn: &mut DbConnection,
    pack_id: &str,
) -> Result<Option<Vec<i32>>, StoreError> {
    if !exists(conn, pack_id)? {
        return Ok(None);
    }
    Ok(Some(
        stickers::table
            .filter(stickers::pack_id.eq(pack_id))
            .order(stickers::sticker_index)
            .select(stickers::sticker_index)
            .load(conn)?,
    ))
}

pub(crate) fn sticker(
    conn: &mut DbConnection,
    pack_id: &str,
    index: i32,
) -> Result<Option<Sticker>, StoreError> {
    let row = stickers::table
        .find((pack_id, index))
        .select(StickerRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(|row| Sticker {
        index,
        id: row.sticker_id,
        image_data_id: row.image_data_id,
        emojis: split_emojis(&row.emojis),
    }))
}

/// The `image_data_id` of the third-party sticker whose id is `sticker_id`.
pub(crate) fn sticker_image(
    conn: &mut DbConnection,
    sticker_id: &str,
) -> Result<Option<String>, StoreError> {
    Ok(stickers::table
        .filter(stickers::sticker_id.eq(sticker_id))
        .select(stickers::image_data_id)
        .first(conn)
        .optional()?)
}

/// False when there is no such sticker.
pub(crate) fn update_sticker(
    conn: &mut DbConnection,
    pack_id: &str,
    index: i32,
    changes: &StickerChanges,
) -> Result<bool, StoreError> {
    write_transaction(conn, |conn| {
        let target = stickers::table.find((pack_id, index));
        let found = target
            .select(stickers::sticker_id)
            .first::<String>(conn)
            .optional()?
            .is_some();
        if let (true, Some((sticker_id, image))) = (found, &changes.image) {
            diesel::update(target)
                .set((
                    stickers::sticker_id.eq(sticker_id),
                    stickers::image_data_id.eq(image),
                ))
                .execute(conn)?;
        }
        if let (true, Some(emojis)) = (found, &changes.emojis) {
            diesel::update(target)
                .set(stickers::emojis.eq(join_emojis(emojis)))
                .execute(conn)?;
        }
        Ok(found)
    })
}

/// False when there is no such sticker. The index is not reused.
pub(crate) fn delete_sticker(
    conn: &mut DbConnection,
    pack_id: &str,
    index: i32,
) -> Result<bool, StoreError> {
    Ok(diesel::delete(stickers::table.find((pack_id, index))).execute(conn)? > 0)
}
