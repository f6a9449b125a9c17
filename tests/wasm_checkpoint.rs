//! The checkpoint readers run inside wasm32 exactly as natively: the page hands them bytes.
//! Built and run only for wasm32 (`.ci/test` runs it under node with wasm-bindgen-test-runner);
//! natively this file is empty.
#![cfg(target_arch = "wasm32")]

use hrm::checkpoint::DType;
use hrm::{Checkpoint, Config};
use wasm_bindgen_test::wasm_bindgen_test;

const WEIGHTS: &[u8] = include_bytes!("fixtures/parity/visible/weights.safetensors");
const CONFIG: &str = include_str!("fixtures/parity/visible/config.json");
const TORCH: &[u8] = include_bytes!("fixtures/torch-checkpoint/checkpoint");
const YAML: &str = include_str!("fixtures/torch-checkpoint/all_config.yaml");

fn reference() -> Checkpoint {
    Checkpoint::from_safetensors(WEIGHTS, Some(&Config::from_json_str(CONFIG).unwrap())).unwrap()
}

#[wasm_bindgen_test]
fn safetensors_round_trip_in_wasm() {
    let ck = reference();
    assert_eq!(ck.params.len(), 23);
    for dtype in [DType::F32, DType::F16] {
        let bytes = ck.to_safetensors(dtype).unwrap();
        let back = Checkpoint::from_safetensors(&bytes, None).unwrap();
        assert_eq!(back.config, ck.config);
        if dtype == DType::F32 {
            assert_eq!(back.params, ck.params);
        }
    }
    assert!(Checkpoint::from_safetensors(&WEIGHTS[..WEIGHTS.len() / 2], None).is_err());
}

#[wasm_bindgen_test]
fn torch_conversion_in_wasm_reproduces_the_parity_weights() {
    let ck = Checkpoint::from_torch(TORCH, YAML, None).unwrap();
    let want = reference();
    for (name, t) in &want.params {
        let got: Vec<u32> = ck.params[name].data.iter().map(|v| v.to_bits()).collect();
        let exp: Vec<u32> = t.data.iter().map(|v| v.to_bits()).collect();
        assert!(got == exp, "{name}");
    }
    assert!(Checkpoint::from_torch(&TORCH[..1000], YAML, None).is_err());
}

#[wasm_bindgen_test]
fn fresh_init_is_the_same_bits_as_natively() {
    // The same seed gives the same values on every platform; these checksums were printed by the
    // native build of the same function (tests/checkpoint.rs checks them natively too).
    let ck = Checkpoint::init(Config::from_json_str(CONFIG).unwrap(), 7).unwrap();
    let sums: Vec<u64> = ck.params.values().map(|t| t.checksum()).collect();
    assert_eq!(sums.len(), 23);
    assert_eq!(sums, hrm_tests_init_checksums());
}

fn hrm_tests_init_checksums() -> Vec<u64> {
    // Written by tests/checkpoint.rs (init_bits_match_the_recorded_checksums) from the native build.
    include!("fixtures/init_checksums_seed7.txt").to_vec()
}
