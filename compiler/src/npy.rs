//! NumPy `.npy` files (format version 1.0 and 2.0) of int8, the tensors users feed models and
//! the reference vectors tests compare with. Only what int8 tensors need: dtype `|i1`, C
//! order. Anything else (`|u1` among them: uint8 values are not int8 ones) is refused.

use std::path::Path;

/// Why a `.npy` file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum NpyError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not an int8 .npy file: {message}")]
    Format { path: String, message: String },
}

/// An int8 array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Array {
    pub shape: Vec<usize>,
    pub data: Vec<i8>,
}

/// Reads an int8 `.npy` file.
pub fn read(path: &Path) -> Result<Array, NpyError> {
    let bytes = mcusim_traces::file::read_capped(path, mcusim_traces::file::MAX_INPUT_BYTES)
        .map_err(|source| NpyError::Io {
            path: path.display().to_string(),
            source,
        })?;
    parse(&bytes).map_err(|message| NpyError::Format {
        path: path.display().to_string(),
        message,
    })
}

/// Parses the bytes of an int8 `.npy` file.
pub fn parse(bytes: &[u8]) -> Result<Array, String> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err("missing the \\x93NUMPY magic".into());
    }
    let (header_len, start) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(format!("unsupported format version {v}")),
    };
    let header = bytes
        .get(start..start + header_len)
        .ok_or("header runs past the end of the file")?;
    let header = std::str::from_utf8(header).map_err(|_| "header is not text")?;
    let field = |key: &str| -> Option<&str> {
        let at = header.find(&format!("'{key}'"))?;
        let rest = header[at + key.len() + 2..]
            .trim_start()
            .strip_prefix(':')?
            .trim_start();
        Some(rest)
    };
    let descr = field("descr").ok_or("header has no descr")?;
    if !(descr.starts_with("'|i1'") || descr.starts_with("'i1'")) {
        return Err(format!(
            "dtype is {}, not int8 (|i1)",
            descr.split(',').next().unwrap_or(descr)
        ));
    }
    let order = field("fortran_order").ok_or("header has no fortran_order")?;
    if order.starts_with("True") {
        return Err("Fortran order is not supported".into());
    }
    let shape_text = field("shape").ok_or("header has no shape")?;
    let shape_text = shape_text
        .strip_prefix('(')
        .and_then(|s| s.split(')').next())
        .ok_or("shape is not a tuple")?;
    let shape = shape_text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| format!("bad dimension '{s}'"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let count = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or("shape overflows")?;
    let data = &bytes[start + header_len..];
    if data.len() != count {
        return Err(format!(
            "shape {shape:?} needs {count} bytes of data, the file has {}",
            data.len()
        ));
    }
    Ok(Array {
        shape,
        data: data.iter().map(|&b| b as i8).collect(),
    })
}

/// The bytes of an int8 `.npy` file (version 1.0) holding `data` with this shape.
pub fn to_bytes(shape: &[usize], data: &[i8]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(ToString::to_string).collect();
    let shape_text = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut header = format!("{{'descr': '|i1', 'fortran_order': False, 'shape': {shape_text}, }}");
    // Pad so the data starts on a 64-byte boundary, ending the header with a newline.
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + data.len());
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend(data.iter().map(|&v| v as u8));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let data: Vec<i8> = (-128..=127).collect();
        let bytes = to_bytes(&[16, 16], &data);
        assert_eq!((bytes.len() - data.len()) % 64, 0);
        let a = parse(&bytes).unwrap();
        assert_eq!(a.shape, vec![16, 16]);
        assert_eq!(a.data, data);
        let one = parse(&to_bytes(&[3], &[1, 2, 3])).unwrap();
        assert_eq!(one.shape, vec![3]);
    }

    #[test]
    fn refuses_other_files() {
        assert!(parse(b"hello").unwrap_err().contains("magic"));
        let mut bytes = to_bytes(&[4], &[1, 2, 3, 4]);
        bytes.pop();
        assert!(parse(&bytes).unwrap_err().contains("needs 4 bytes"));
        let mut f32_file = to_bytes(&[1], &[0]);
        let at = f32_file.windows(3).position(|w| w == b"|i1").unwrap();
        f32_file[at..at + 3].copy_from_slice(b"<f4");
        assert!(parse(&f32_file).unwrap_err().contains("not int8"));
        // uint8 holds other values than int8 in the same bytes: refused, not reinterpreted.
        let mut u8_file = to_bytes(&[1], &[0]);
        let at = u8_file.windows(3).position(|w| w == b"|i1").unwrap();
        u8_file[at..at + 3].copy_from_slice(b"|u1");
        assert!(parse(&u8_file).unwrap_err().contains("'|u1'"));
    }
}
