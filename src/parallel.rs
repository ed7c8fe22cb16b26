//! Work spread over threads, results kept in input order: the one place phi-audit runs anything
//! in parallel. Every output must be the same bytes whatever the thread count (a test compares a
//! run on one thread with a run on several), so results are returned, or handed on, in the order
//! of their inputs — never in the order the threads happen to finish them.
//!
//! How many threads is a value the caller passes ([`Threads`]); nothing here reads the machine
//! except [`Threads::available`], which the command line calls once.

use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

/// How many threads a stage may use (at least one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Threads(NonZeroUsize);

impl Threads {
    /// Everything on the calling thread.
    pub const ONE: Threads = Threads(NonZeroUsize::MIN);

    /// `n` threads; zero means one.
    pub fn new(n: usize) -> Threads {
        Threads(NonZeroUsize::new(n).unwrap_or(NonZeroUsize::MIN))
    }

    /// As many as the machine offers this process.
    pub fn available() -> Threads {
        Threads(std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN))
    }

    pub fn get(self) -> usize {
        self.0.get()
    }
}

impl Default for Threads {
    fn default() -> Self {
        Threads::ONE
    }
}

/// Applies `f` to every item on up to `threads` threads; the results come back in item order.
/// Items are taken a few at a time from a shared counter, so a slow item does not hold up a
/// whole share of the work.
pub fn map<T: Sync, R: Send>(items: &[T], threads: Threads, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let workers = threads.get().min(items.len());
    if workers <= 1 {
        return items.iter().map(f).collect();
    }
    // Small enough to balance, large enough that the counter is not contended.
    let chunk = (items.len() / (workers * 16)).clamp(1, 64);
    let next = AtomicUsize::new(0);
    let done: Vec<Vec<(usize, R)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let start = next.fetch_add(chunk, Ordering::Relaxed);
                        if start >= items.len() {
                            return out;
                        }
                        let end = (start + chunk).min(items.len());
                        out.extend((start..end).map(|i| (i, f(&items[i]))));
                    }
                })
            })
            .collect();
        handles.into_iter().map(join).collect()
    });
    let mut slots: Vec<Option<R>> = std::iter::repeat_with(|| None).take(items.len()).collect();
    for (i, result) in done.into_iter().flatten() {
        slots[i] = Some(result);
    }
    slots
        .into_iter()
        .map(|slot| slot.expect("every item is mapped once"))
        .collect()
}

/// Produces every item on up to `threads` worker threads, starting them in `start` order (a
/// permutation of the item indices: the slowest first), and hands each result to `consume` on
/// the calling thread in item order. `consume` stops everything by returning an error; a result
/// that arrives early waits (it should be small: a compressed entry, not a document). When
/// `consume` is the slower side (writing what the workers judge), the workers wait for it: at
/// most [`AHEAD`] results per worker are queued, so memory follows the queue, not the items.
pub fn pipeline<T: Sync, R: Send, E>(
    items: &[T],
    start: &[usize],
    threads: Threads,
    produce: impl Fn(&T) -> R + Sync,
    mut consume: impl FnMut(usize, R) -> Result<(), E>,
) -> Result<(), E> {
    debug_assert_eq!(start.len(), items.len());
    let workers = threads.get().min(items.len());
    if workers <= 1 {
        for (i, item) in items.iter().enumerate() {
            consume(i, produce(item))?;
        }
        return Ok(());
    }
    let next = AtomicUsize::new(0);
    // Set when the consumer gave up: the workers stop taking new items.
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let (sender, receiver) = mpsc::sync_channel::<(usize, R)>(workers * AHEAD);
        for _ in 0..workers {
            let sender = sender.clone();
            let (next, stop, produce) = (&next, &stop, &produce);
            scope.spawn(move || loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if k >= start.len() || stop.load(Ordering::Relaxed) {
                    return;
                }
                let i = start[k];
                if sender.send((i, produce(&items[i]))).is_err() {
                    return;
                }
            });
        }
        drop(sender);
        let mut waiting = BTreeMap::new();
        let mut due = 0;
        for (i, result) in receiver {
            waiting.insert(i, result);
            while let Some(result) = waiting.remove(&due) {
                if let Err(e) = consume(due, result) {
                    stop.store(true, Ordering::Relaxed);
                    return Err(e);
                }
                due += 1;
            }
        }
        Ok(())
    })
}

/// Hands every item's result to `consume` in item order, producing the next item's result on a
/// thread of its own while `consume` works on the one before: reading one input while the
/// previous is judged. At most two results exist at once. On one thread everything runs on the
/// calling thread, one item after the other. A panic in `produce` is raised in the caller.
pub fn read_ahead<T: Sync, R: Send, E>(
    items: &[T],
    threads: Threads,
    produce: impl Fn(&T) -> R + Sync,
    mut consume: impl FnMut(&T, R) -> Result<(), E>,
) -> Result<(), E> {
    if threads.get() == 1 {
        return items
            .iter()
            .try_for_each(|item| consume(item, produce(item)));
    }
    std::thread::scope(|scope| {
        let produce = &produce;
        let start = |item| scope.spawn(move || produce(item));
        let mut next = items.first().map(start);
        for (i, item) in items.iter().enumerate() {
            let producing = next.take().expect("each item is started before it is due");
            let result =
                (producing.join()).unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            next = items.get(i + 1).map(start);
            consume(item, result)?;
        }
        Ok(())
    })
}

/// Consecutive items grouped into batches for workers, given each item's size: at most
/// `max_items` to a batch and at most `max_bytes` of them, except that an item larger than
/// `max_bytes` (a size of `u64::MAX`: an item that must be alone) makes a batch of its own.
pub fn batches(
    sizes: impl IntoIterator<Item = u64>,
    max_items: usize,
    max_bytes: u64,
) -> Vec<std::ops::Range<usize>> {
    let mut batches = Vec::new();
    let (mut start, mut bytes) = (0, 0u64);
    let mut end = 0;
    for (i, size) in sizes.into_iter().enumerate() {
        let fits = i - start < max_items && bytes.saturating_add(size) <= max_bytes;
        if i > start && !fits {
            batches.push(start..i);
            (start, bytes) = (i, 0);
        }
        bytes = bytes.saturating_add(size);
        end = i + 1;
    }
    if start < end {
        batches.push(start..end);
    }
    batches
}

/// How many finished results per worker may wait for the consumer of a [`pipeline`].
pub const AHEAD: usize = 8;

/// A worker's result, or its panic carried on to the caller.
fn join<R>(handle: std::thread::ScopedJoinHandle<'_, R>) -> R {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_keeps_item_order_on_any_number_of_threads() {
        let items: Vec<u64> = (0..1000).collect();
        let one = map(&items, Threads::ONE, |x| x * x);
        for n in [2, 3, 8] {
            assert_eq!(map(&items, Threads::new(n), |x| x * x), one, "{n} threads");
        }
        assert_eq!(one[999], 998_001);
    }

    #[test]
    fn pipeline_consumes_in_item_order_whatever_the_start_order() {
        let items: Vec<usize> = (0..200).collect();
        let start: Vec<usize> = (0..200).rev().collect();
        let mut seen = Vec::new();
        pipeline(
            &items,
            &start,
            Threads::new(4),
            |x| x * 2,
            |i, r| {
                seen.push((i, r));
                Ok::<(), ()>(())
            },
        )
        .unwrap();
        assert_eq!(seen, (0..200).map(|i| (i, i * 2)).collect::<Vec<_>>());
    }

    #[test]
    fn pipeline_stops_at_the_consumers_error() {
        let items: Vec<usize> = (0..100).collect();
        let start: Vec<usize> = (0..100).collect();
        let mut consumed = 0;
        let result = pipeline(
            &items,
            &start,
            Threads::new(3),
            |x| *x,
            |i, _| {
                consumed += 1;
                if i == 10 {
                    Err(i)
                } else {
                    Ok(())
                }
            },
        );
        assert_eq!(result, Err(10));
        assert_eq!(consumed, 11);
    }

    #[test]
    fn batches_hold_consecutive_items_within_their_limits() {
        assert_eq!(batches([1, 1, 1, 1, 1], 2, 100), vec![0..2, 2..4, 4..5]);
        assert_eq!(batches([4, 4, 4], 10, 8), vec![0..2, 2..3]);
        // Larger than the limit, or to be alone: a batch of its own.
        assert_eq!(batches([1, 20, 1], 10, 8), vec![0..1, 1..2, 2..3]);
        assert_eq!(batches([1, u64::MAX, 0, 1], 10, 8), vec![0..1, 1..2, 2..4]);
        assert!(batches([], 10, 8).is_empty());
    }

    /// Counts the results alive at once.
    struct Alive<'a>(&'a AtomicUsize, usize);

    impl Drop for Alive<'_> {
        fn drop(&mut self) {
            self.0.fetch_sub(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn read_ahead_consumes_in_order_with_at_most_two_results_alive() {
        let items: Vec<usize> = (0..50).collect();
        for threads in [Threads::ONE, Threads::new(2), Threads::new(4)] {
            let (alive, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
            let mut seen = Vec::new();
            let produce = |x: &usize| {
                let now = alive.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                Alive(&alive, x * 3)
            };
            read_ahead(&items, threads, produce, |x, result| {
                seen.push((*x, result.1));
                Ok::<(), ()>(())
            })
            .unwrap();
            assert_eq!(seen, (0..50).map(|i| (i, i * 3)).collect::<Vec<_>>());
            let limit = if threads == Threads::ONE { 1 } else { 2 };
            assert!(most.load(Ordering::SeqCst) <= limit, "{threads:?}");
        }
    }

    #[test]
    fn read_ahead_stops_at_the_consumers_error() {
        let items: Vec<usize> = (0..100).collect();
        let produced = AtomicUsize::new(0);
        let result = read_ahead(
            &items,
            Threads::new(2),
            |x| {
                produced.fetch_add(1, Ordering::SeqCst);
                *x
            },
            |x, _| if *x == 10 { Err(*x) } else { Ok(()) },
        );
        assert_eq!(result, Err(10));
        // The item after the failing one may have been started; none after it.
        assert!(produced.load(Ordering::SeqCst) <= 12);
    }
}
