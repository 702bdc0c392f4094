//! The SHA-1 of each piece being downloaded, taken from its blocks as they are written,
//! so that checking a piece whose blocks came in order reads nothing back from storage.

use std::{collections::HashMap, sync::Arc};

use librqbit_core::lengths::ValidPieceIndex;
use parking_lot::Mutex;
use sha1w::{ISha1, Sha1};

/// What is known of one piece's hash while its blocks are written.
///
/// Invariant: when `sha1` is `Some`, it has hashed exactly the bytes storage holds for
/// `[0, hashed)` of the piece. Every write to the piece goes through
/// [`RunningHash::on_written`] while the piece's lock is held, so the order of the
/// writes is the order in which the hash sees them.
pub(crate) struct RunningHash {
    sha1: Option<Sha1>,
    hashed: u32,
}

impl Default for RunningHash {
    fn default() -> Self {
        Self {
            sha1: Some(Sha1::new()),
            hashed: 0,
        }
    }
}

impl RunningHash {
    /// Called after `data` was written at `offset` in the piece. `as_received` is false
    /// when storage did not keep the bytes as given (a padding file's part is not
    /// written): such a block is read back at the check.
    pub fn on_written(&mut self, offset: u32, data: [&[u8]; 2], as_received: bool) {
        if offset == 0 {
            // The piece starts over: a block 0 written again replaces the old one.
            *self = Self::default();
        }
        if offset > self.hashed || (offset == self.hashed && !as_received) {
            // A block after a gap, or one storage changed: the check reads it back.
            return;
        }
        match self.sha1.as_mut() {
            Some(sha1) if offset == self.hashed && as_received => {
                let len = data[0].len() + data[1].len();
                sha1.update(data[0]);
                sha1.update(data[1]);
                self.hashed += u32::try_from(len).unwrap_or(u32::MAX);
            }
            // A block already hashed was written again (a duplicate answer, possibly
            // different bytes): what was hashed may no longer be what is stored.
            _ => self.sha1 = None,
        }
    }
}

/// The running hashes of the pieces with blocks written and not yet checked.
#[derive(Default)]
pub(crate) struct PieceHashes {
    pieces: Mutex<HashMap<ValidPieceIndex, Arc<Mutex<RunningHash>>>>,
}

impl PieceHashes {
    /// The running hash of `piece`, which its writer locks around a block's write.
    pub fn of(&self, piece: ValidPieceIndex) -> Arc<Mutex<RunningHash>> {
        self.pieces.lock().entry(piece).or_default().clone()
    }

    /// Takes the running hash of a piece whose blocks are all written, for its check:
    /// the hash so far and how many leading bytes it covers, or `None` when the whole
    /// piece must be read back.
    pub fn take(&self, piece: ValidPieceIndex) -> Option<(Sha1, u32)> {
        let running = self.pieces.lock().remove(&piece)?;
        let mut running = running.lock();
        let hashed = running.hashed;
        running.sha1.take().map(|sha1| (sha1, hashed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(fill: u8) -> Vec<u8> {
        vec![fill; 4]
    }

    fn state(running: &RunningHash) -> Option<u32> {
        running.sha1.as_ref().map(|_| running.hashed)
    }

    #[test]
    fn blocks_in_order_extend_the_hash() {
        let mut r = RunningHash::default();
        r.on_written(0, [&block(1), &[]], true);
        r.on_written(4, [&block(2)[..2], &block(2)[2..]], true);
        assert_eq!(state(&r), Some(8));
        let mut expected = Sha1::new();
        expected.update(&[1, 1, 1, 1, 2, 2, 2, 2]);
        assert_eq!(r.sha1.unwrap().finish(), expected.finish());
    }

    #[test]
    fn a_block_after_a_gap_is_left_for_the_check() {
        let mut r = RunningHash::default();
        r.on_written(0, [&block(1), &[]], true);
        r.on_written(8, [&block(3), &[]], true);
        r.on_written(4, [&block(2), &[]], true);
        assert_eq!(state(&r), Some(8));
    }

    #[test]
    fn a_hashed_block_written_again_spoils_the_hash_until_block_0_is() {
        let mut r = RunningHash::default();
        r.on_written(0, [&block(1), &[]], true);
        r.on_written(4, [&block(2), &[]], true);
        r.on_written(4, [&block(9), &[]], true);
        assert_eq!(state(&r), None);
        r.on_written(8, [&block(3), &[]], true);
        assert_eq!(state(&r), None);
        r.on_written(0, [&block(1), &[]], true);
        assert_eq!(state(&r), Some(4));
    }

    #[test]
    fn a_block_not_stored_as_received_is_left_for_the_check() {
        let mut r = RunningHash::default();
        r.on_written(0, [&block(1), &[]], true);
        r.on_written(4, [&block(2), &[]], false);
        r.on_written(8, [&block(3), &[]], true);
        assert_eq!(state(&r), Some(4));
        r.on_written(4, [&block(2), &[]], false);
        assert_eq!(state(&r), Some(4));
        r.on_written(0, [&block(1), &[]], false);
        assert_eq!(state(&r), Some(0));
    }
}
