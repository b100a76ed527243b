#![allow(clippy::unwrap_used)]
use wa_store::{Store, StoreConfig};
#[tokio::test]
async fn inspect() {
    for url in ["mariadb://wa_test:wa_test@127.0.0.1:3306/wa_inspect", "postgresql://wa_test:wa_test@127.0.0.1:5432/wa_inspect", "sqlite:///tmp/wa_inspect/sub/db.sqlite"] {
        let s = Store::connect(&StoreConfig::new(url)).await.unwrap();
        println!("{url}: {:?} applied={}", s, s.migrations_applied());
    }
}
