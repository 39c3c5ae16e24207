//! [`SdBuffers`]: the vectors one message's STRUCTURED-DATA was parsed into, kept empty for
//! the next message. A message with SD-ELEMENTs allocated one vector for the elements and one
//! per element for its parameters, and freed them all once its event was written: malloc,
//! growth and free were ~240 instructions of an RFC 5424 line (issue 16). With the buffers
//! handed back, a stream of messages parses its SD without allocating once the buffers have
//! grown to its largest message.

use crate::syslog::{SdElement, SdParam};

/// The most elements, and parameters an element, whose room is kept: a rare message with
/// many of them should not hold that memory for as long as the stream lasts. `listen` keeps
/// one parser per connection, so this is at most 8 × 16 parameters of 32 bytes (4 KiB) and 8
/// elements a connection, whatever a sender writes; the usual message has 0 to 3 elements of a
/// few parameters.
const MAX_KEPT_ELEMENTS: usize = 8;
const MAX_KEPT_PARAMS: usize = 16;

/// Empty vectors, with their capacity, for [`super::parse_reusing`] to parse SD into.
///
/// They hold no data, only room: `'static` because an empty vector borrows nothing, and a
/// `Vec<SdElement<'static>>` is a `Vec<SdElement<'a>>` for any line's `'a`.
#[derive(Debug, Default)]
pub struct SdBuffers {
    elements: Vec<SdElement<'static>>,
    params: Vec<Vec<SdParam<'static>>>,
}

/// A clone starts without room: the buffers hold no data to copy.
impl Clone for SdBuffers {
    fn clone(&self) -> Self {
        SdBuffers::default()
    }
}

impl SdBuffers {
    /// An empty vector for a message's elements, with the room the last one left.
    pub(super) fn elements<'a>(&mut self) -> Vec<SdElement<'a>> {
        std::mem::take(&mut self.elements)
    }

    /// An empty vector for one element's parameters.
    pub(super) fn params<'a>(&mut self) -> Vec<SdParam<'a>> {
        self.params.pop().unwrap_or_default()
    }

    /// Takes back a message's STRUCTURED-DATA, emptied, for the next message to parse into.
    pub fn recycle(&mut self, mut elements: Vec<SdElement<'_>>) {
        // A message without SD allocated nothing; keep the room there is.
        if elements.capacity() <= self.elements.capacity()
            || elements.capacity() > MAX_KEPT_ELEMENTS
        {
            return;
        }
        for element in elements.drain(..) {
            if (1..=MAX_KEPT_PARAMS).contains(&element.params.capacity())
                && self.params.len() < MAX_KEPT_ELEMENTS
            {
                self.params.push(forget_params(element.params));
            }
        }
        self.elements = forget_elements(elements);
    }
}

// An emptied vector keeps its allocation when collected into a vector of the same type with
// another lifetime: std collects `into_iter()` of a vector in place (its allocation reused)
// when the item types have the same size and alignment. The tests below check that it does.

fn forget_elements(mut elements: Vec<SdElement<'_>>) -> Vec<SdElement<'static>> {
    elements.clear();
    elements
        .into_iter()
        .map(|_| -> SdElement<'static> { unreachable!("the vector was emptied") })
        .collect()
}

fn forget_params(mut params: Vec<SdParam<'_>>) -> Vec<SdParam<'static>> {
    params.clear();
    params
        .into_iter()
        .map(|_| -> SdParam<'static> { unreachable!("the vector was emptied") })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn element<'a>(id: &'a [u8], names: &[&'a [u8]]) -> SdElement<'a> {
        let mut params = Vec::with_capacity(8);
        params.extend(names.iter().map(|&name| SdParam {
            name,
            raw_value: b"v",
        }));
        SdElement { id, params }
    }

    #[test]
    fn recycled_vectors_come_back_empty_with_their_room() {
        let line = b"a b c".to_vec();
        let mut buffers = SdBuffers::default();
        let mut sd = Vec::with_capacity(6);
        sd.push(element(&line[0..1], &[&line[2..3]]));
        sd.push(element(&line[4..5], &[]));
        let params_at = sd[0].params.as_ptr() as usize;
        buffers.recycle(sd);
        drop(line);

        let elements = buffers.elements();
        assert_eq!((elements.len(), elements.capacity()), (0, 6));
        let params = buffers.params();
        assert_eq!((params.len(), params.capacity()), (0, 8));
        let again = buffers.params();
        assert_eq!((again.len(), again.capacity()), (0, 8));
        assert!(params.as_ptr() as usize == params_at || again.as_ptr() as usize == params_at);
        // The pool is empty now: a fresh vector, which has not allocated.
        assert_eq!(buffers.params().capacity(), 0);
        assert_eq!(buffers.elements().capacity(), 0);
    }

    #[test]
    fn no_more_parameter_vectors_are_kept_than_elements() {
        let mut buffers = SdBuffers::default();
        let mut sd = Vec::with_capacity(8);
        for _ in 0..8 {
            sd.push(element(b"x", &[b"p"]));
        }
        buffers.recycle(sd);
        // Eight more come back while the first eight are still in the pool: none is kept.
        let mut more = Vec::with_capacity(8);
        for _ in 0..8 {
            more.push(element(b"y", &[b"q"]));
        }
        buffers.elements();
        buffers.recycle(more);
        let kept = (0..9).filter(|_| buffers.params().capacity() > 0).count();
        assert_eq!(kept, 8);
    }

    #[test]
    fn a_message_without_sd_keeps_the_room_of_the_last_one_with() {
        let mut buffers = SdBuffers::default();
        buffers.recycle(vec![element(b"x", &[b"p"])]);
        buffers.recycle(Vec::new());
        assert_eq!(buffers.elements().capacity(), 1);
    }

    #[test]
    fn the_room_of_a_huge_message_is_not_kept() {
        let mut buffers = SdBuffers::default();
        let params: Vec<&[u8]> = vec![b"p"; 17];
        buffers.recycle(vec![element(b"x", &params)]);
        assert_eq!(buffers.elements().capacity(), 1);
        assert_eq!(buffers.params().capacity(), 0);
        buffers.recycle((0..9).map(|_| element(b"x", &[])).collect());
        assert_eq!(buffers.elements().capacity(), 0);
    }
}
