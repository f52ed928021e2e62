//! Which engine runs each layer on a board with an NPU: every layer whose operator the NPU
//! has ([`crate::ops::Operator::npu`]) goes there, the rest stay on the CPU with the reason.

use crate::lower::Layer;

/// One layer's engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub npu: bool,
    /// Why it stays on the CPU, on a board with an NPU.
    pub reason: Option<String>,
}

/// The placement of `layers` on a board with an NPU (`npu`), or all on the CPU.
pub fn place(layers: &[Layer], npu: bool) -> Vec<Placement> {
    layers
        .iter()
        .map(|l| match (npu, l.kernel.operator().npu()) {
            (false, _) => Placement {
                npu: false,
                reason: None,
            },
            (true, Ok(())) => Placement {
                npu: true,
                reason: None,
            },
            (true, Err(why)) => Placement {
                npu: false,
                reason: Some(why),
            },
        })
        .collect()
}

/// Whether `placement` puts any layer on the NPU.
pub fn any_on_npu(placement: &[Placement]) -> bool {
    placement.iter().any(|p| p.npu)
}
