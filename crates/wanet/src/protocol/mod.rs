//! The coreapp's side of `wa-netproto`: the TLS listener and one session per connection.

pub mod server;
pub mod session;
pub mod tls;
