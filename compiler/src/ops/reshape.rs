//! RESHAPE: the output is the input's bytes (the planner gives both the same place, so the
//! copy is a no-op).

use super::{CallSite, Kernel, Lowered, Lowering, Operands, Operator};
use crate::lower::LowerError;

#[derive(Debug, Clone, PartialEq)]
pub struct Reshape {
    pub size: i32,
}

pub fn lower(l: &Lowering<'_>) -> Result<Lowered, LowerError> {
    let size = l.tensor(0)?.elements() as i32;
    Ok(Lowered {
        inputs: vec![l.index(0)],
        ..l.plain(Kernel::Reshape(Reshape { size }))
    })
}

impl Operator for Reshape {
    fn output_is_input(&self) -> bool {
        true
    }

    fn npu(&self) -> Result<(), String> {
        Err("its output is its input's bytes: nothing to compute".into())
    }

    fn c_call(&self, _c: &mut String, at: &CallSite<'_>) -> String {
        let (size, input, out) = (self.size, &at.input, &at.out);
        format!("(mnn_copy_s8({input}, {size}, {out}), MNN_SUCCESS)")
    }

    fn interpret(&self, x: &Operands<'_>) -> Result<Vec<i8>, String> {
        Ok(x.x().to_vec())
    }
}
