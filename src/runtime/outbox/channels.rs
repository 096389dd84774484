//! Order per channel: a claimed batch split by channel, and channels *held* (their items
//! deferred) until a pacing wait or a retry has passed.

use std::collections::{HashMap, HashSet};

use super::OutboxSender;
use crate::adapters::store::ClaimedOutbox;
use crate::base::locks::lock;

impl OutboxSender {
    /// Holds `channel` until `until`: its next items wait for that moment.
    pub(super) fn hold(&self, channel: &str, until: i64, held_in_batch: &mut HashSet<String>) {
        held_in_batch.insert(channel.to_owned());
        lock(&self.held).insert(channel.to_owned(), until);
    }

    /// The due time for an item of `channel` if the channel is held: always when it was held
    /// earlier in this batch (even if the moment has passed meanwhile), else while `now` is
    /// before the hold ends.
    pub(super) fn held_until(
        &self,
        channel: &str,
        now: i64,
        held_in_batch: &HashSet<String>,
    ) -> Option<i64> {
        let mut held = lock(&self.held);
        let until = *held.get(channel)?;
        if until > now || held_in_batch.contains(channel) {
            return Some(until);
        }
        held.remove(channel);
        None
    }
}

/// The batch split by channel, channels in the order they first appear, each channel's items
/// in id (queueing) order, in case deferrals left their due times out of order.
pub(super) fn by_channel(items: Vec<ClaimedOutbox>) -> Vec<Vec<ClaimedOutbox>> {
    let mut order: Vec<String> = Vec::new();
    let mut channels: HashMap<String, Vec<ClaimedOutbox>> = HashMap::new();
    for item in items {
        if !channels.contains_key(&item.channel) {
            order.push(item.channel.clone());
        }
        channels.entry(item.channel.clone()).or_default().push(item);
    }
    order
        .into_iter()
        .filter_map(|channel| channels.remove(&channel))
        .map(|mut items| {
            items.sort_by_key(|item| item.id);
            items
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: u64, channel: &str) -> ClaimedOutbox {
        ClaimedOutbox {
            id,
            channel: channel.into(),
            payload: String::new(),
            failures: 0,
            first_failed_ms: None,
            unknown_since_ms: None,
        }
    }

    #[test]
    fn batch_is_split_by_channel_in_id_order() {
        let batch = vec![
            item(5, "a"),
            item(2, "b"),
            item(3, "a"),
            item(1, "b"),
            item(4, "c"),
        ];
        let ordered: Vec<_> = by_channel(batch)
            .iter()
            .flatten()
            .map(|i| (i.id, i.channel.clone()))
            .collect();
        let expected = [(3, "a"), (5, "a"), (1, "b"), (2, "b"), (4, "c")];
        let expected: Vec<_> = expected.iter().map(|(i, c)| (*i, c.to_string())).collect();
        assert_eq!(ordered, expected);
    }
}
