//! X-Ray's documented field rules hold for every document of arbitrary span data: random bytes
//! become spans of every kind, attribute type and key the translation reads, with events,
//! exception stacks, links, statuses and resources (the export fuzz target's harness), and
//! every datagram received is checked (header, size, JSON, and each field's rule).

mod support;

use proptest::collection::vec;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn every_document_of_arbitrary_spans_keeps_x_rays_field_rules(data in vec(any::<u8>(), 0..4096)) {
        support::fuzz_export::export(&data);
    }
}
