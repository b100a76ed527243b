//! What happens to a message, as statuses and directions. One spelling each, shared by the
//! coreapp (which records them), the settings (which switch their webhooks on and off) and the
//! webhook bodies.

/// The status of an outbound message. The first five move forward only, in this order; `warning`
/// is reported beside them (a product list partly sent) and never stored as the message's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageStatus {
    /// Stored, not yet accepted by the network (not an On-Prem webhook status).
    Pending,
    Sent,
    Delivered,
    Read,
    Failed,
    Warning,
    /// The consumer deleted the message (inbound only).
    Deleted,
}

impl MessageStatus {
    pub const ALL: [MessageStatus; 7] = [
        MessageStatus::Pending,
        MessageStatus::Sent,
        MessageStatus::Delivered,
        MessageStatus::Read,
        MessageStatus::Failed,
        MessageStatus::Warning,
        MessageStatus::Deleted,
    ];

    /// The name in webhooks, `GET /v1/messages/{id}` and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Pending => "pending",
            MessageStatus::Sent => "sent",
            MessageStatus::Delivered => "delivered",
            MessageStatus::Read => "read",
            MessageStatus::Failed => "failed",
            MessageStatus::Warning => "warning",
            MessageStatus::Deleted => "deleted",
        }
    }

    /// The status a name spells; `None` for a name this version does not know.
    pub fn parse(name: &str) -> Option<MessageStatus> {
        MessageStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == name)
    }
}

impl std::fmt::Display for MessageStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From a consumer to the business.
    Inbound,
    /// From the business to a consumer.
    Outbound,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }

    pub fn parse(name: &str) -> Option<Direction> {
        [Direction::Inbound, Direction::Outbound]
            .into_iter()
            .find(|direction| direction.as_str() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_back() {
        for status in MessageStatus::ALL {
            assert_eq!(MessageStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(MessageStatus::parse("queued"), None);
        assert_eq!(Direction::parse("outbound"), Some(Direction::Outbound));
        assert_eq!(Direction::parse("sideways"), None);
    }
}
