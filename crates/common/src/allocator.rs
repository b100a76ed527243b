//! The memory allocator of every binary (and test) that links this crate: mimalloc instead of
//! glibc's malloc.
//!
//! Why: glibc keeps the heap a burst leaves behind. The simulator's 100,000-message offline
//! drain left wanet at about 75 MiB resident after every push was acknowledged and freed (idle:
//! 23 MiB), because freed small blocks between live ones are never given back; mimalloc returns
//! freed pages to the system (measured: 29 MiB after the same drain, scripts/bench).
//!
//! mimalloc is built with `MI_DEFAULT_ARENA_EAGER_COMMIT=0` (`.cargo/config.toml`): by default on
//! Linux it commits each arena when reserving it, which counted ~17 MiB more at idle and kept
//! the drain's pages. The run-time variable `MIMALLOC_ARENA_EAGER_COMMIT` still overrides it.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
