//! `.npy` arrays as bytes (no file system here, so it runs in wasm32): integer arrays in C order, read
//! through the `npyz` crate (which parses every header variant numpy has written) and written here. The official builders write token arrays as `uint8` (`|u1`) and
//! index arrays as `int32` (`<i4`); other integer dtypes are read too, with a range check.

use super::DatasetError;
use npyz::{DType, NpyFile, Order};

/// An integer array: its shape and its elements in C order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Array<T> {
    pub shape: Vec<usize>,
    pub data: Vec<T>,
}

/// An opened npy file, its dtype string and its shape.
type Opened<'a> = (NpyFile<&'a [u8]>, String, Vec<usize>);

/// The dtype string and shape of an npy file, checked to be a plain C-order integer array.
fn open<'a>(bytes: &'a [u8], file: &str) -> Result<Opened<'a>, DatasetError> {
    let err = |p: String| DatasetError::new(file, p);
    let npy = NpyFile::new(bytes).map_err(|e| err(format!("not a valid .npy file: {e}")))?;
    let DType::Plain(ts) = npy.dtype() else {
        return Err(err("structured dtype; expected a plain integer array".into()));
    };
    let dtype = ts.to_string();
    if npy.order() == Order::Fortran && npy.shape().len() > 1 {
        return Err(err("Fortran-order array; expected C order".into()));
    }
    let shape = npy.shape().iter().map(|&d| d as usize).collect::<Vec<_>>();
    let have = bytes.len();
    let item = ts.size_field() as usize;
    // Checked before any allocation, so a lying header cannot ask for terabytes.
    let need = shape.iter().try_fold(item, |acc, &d| acc.checked_mul(d));
    if item == 0 || need.is_none_or(|need| need > have) {
        return Err(err(format!("truncated: shape {shape:?} of {dtype} needs more than the file's {have} bytes")));
    }
    Ok((npy, dtype, shape))
}

fn convert<S: Copy + Into<i64>, T: TryFrom<i64>>(src: Vec<S>, file: &str) -> Result<Vec<T>, DatasetError> {
    src.into_iter()
        .enumerate()
        .map(|(i, v)| {
            let v: i64 = v.into();
            T::try_from(v).map_err(|_| DatasetError::new(file, format!("element {i} = {v} is out of range")))
        })
        .collect()
}

/// Read any little-endian (or byte-order-free) integer array into `T`, checking every value fits.
fn read_as<T: TryFrom<i64> + Copy>(bytes: &[u8], file: &str) -> Result<Array<T>, DatasetError> {
    let (npy, dtype, shape) = open(bytes, file)?;
    let io = |e: std::io::Error| DatasetError::new(file, format!("reading {dtype} data: {e}"));
    let data = match dtype.as_str() {
        "|u1" => convert::<u8, T>(npy.into_vec::<u8>().map_err(io)?, file)?,
        "|i1" => convert::<i8, T>(npy.into_vec::<i8>().map_err(io)?, file)?,
        "<u2" => convert::<u16, T>(npy.into_vec::<u16>().map_err(io)?, file)?,
        "<i2" => convert::<i16, T>(npy.into_vec::<i16>().map_err(io)?, file)?,
        "<u4" => convert::<u32, T>(npy.into_vec::<u32>().map_err(io)?, file)?,
        "<i4" => convert::<i32, T>(npy.into_vec::<i32>().map_err(io)?, file)?,
        "<i8" => convert::<i64, T>(npy.into_vec::<i64>().map_err(io)?, file)?,
        other => return Err(DatasetError::new(file, format!("dtype {other}: expected a little-endian integer dtype such as |u1 or <i4"))),
    };
    Ok(Array { shape, data })
}

/// Token arrays (inputs, labels): values must fit in 0..=255.
pub fn read_tokens(bytes: &[u8], file: &str) -> Result<Array<u8>, DatasetError> {
    read_as::<u8>(bytes, file)
}

/// Index and identifier arrays.
pub fn read_indices(bytes: &[u8], file: &str) -> Result<Array<i64>, DatasetError> {
    read_as::<i64>(bytes, file)
}

/// Write a `|u1` array of the given shape, byte for byte as `np.save` writes it.
pub fn write_u8(shape: &[usize], data: &[u8]) -> Vec<u8> {
    assert_eq!(shape.iter().product::<usize>(), data.len(), "shape does not match data");
    let mut out = header("|u1", shape);
    out.extend_from_slice(data);
    out
}

/// Write an `<i4` array of the given shape, byte for byte as `np.save` writes it.
pub fn write_i32(shape: &[usize], data: &[i32]) -> Vec<u8> {
    assert_eq!(shape.iter().product::<usize>(), data.len(), "shape does not match data");
    let mut out = header("<i4", shape);
    out.extend(data.iter().flat_map(|v| v.to_le_bytes()));
    out
}

/// numpy's format 1.0 header (numpy/lib/format.py): the dict with sorted keys and a trailing ", ",
/// spare spaces so the first axis can grow to 21 digits in place, then spaces and a newline up to a
/// multiple of 64 bytes. (npyz writes `(2, )` for 1-D shapes; numpy writes `(2,)`, and we want files
/// identical to the official builders'.)
fn header(descr: &str, shape: &[usize]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape_repr = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_repr}, }}");
    if let Some(first) = dims.first() {
        dict.push_str(&" ".repeat(21usize.saturating_sub(first.len())));
    }
    let unpadded = 10 + dict.len() + 1;
    dict.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    dict.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out
}
