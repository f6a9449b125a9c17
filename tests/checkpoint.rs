//! Safetensors checkpoints: load the parity weights, save → load bit for bit, the config in the
//! metadata, f16/bf16 widening, the `_orig_mod.` prefix, and every refusal naming its tensor.

use hrm::checkpoint::{self, safetensors, DType};
use hrm::{params, Checkpoint, CheckpointError, Config, HostTensor, ParamStore};
use hrm_tests::XorShift;

fn visible() -> std::path::PathBuf {
    hrm_tests::fixtures().join("parity/visible")
}

fn visible_config() -> Config {
    Config::from_json_str(&std::fs::read_to_string(visible().join("config.json")).unwrap()).unwrap()
}

fn visible_checkpoint() -> Checkpoint {
    let bytes = std::fs::read(visible().join("weights.safetensors")).unwrap();
    Checkpoint::from_safetensors(&bytes, Some(&visible_config())).unwrap()
}

fn bits(t: &HostTensor) -> Vec<u32> {
    t.data.iter().map(|v| v.to_bits()).collect()
}

fn assert_bit_identical(a: &ParamStore, b: &ParamStore) {
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (name, t) in a {
        assert_eq!(t.shape, b[name].shape, "{name}");
        assert!(bits(t) == bits(&b[name]), "{name} differs");
    }
}

/// A safetensors file assembled by hand from the format's definition (8-byte LE header length, JSON
/// header, data), independent of the writer under test.
fn raw_safetensors(tensors: &[(&str, &str, Vec<usize>, Vec<u8>)], config: Option<&str>) -> Vec<u8> {
    let mut header = serde_json::Map::new();
    if let Some(c) = config {
        header.insert("__metadata__".into(), serde_json::json!({ "config": c }));
    }
    let mut data = Vec::new();
    for (name, dtype, shape, bytes) in tensors {
        let start = data.len();
        data.extend_from_slice(bytes);
        header.insert(name.to_string(), serde_json::json!({"dtype": dtype, "shape": shape, "data_offsets": [start, data.len()]}));
    }
    let mut h = serde_json::to_vec(&serde_json::Value::Object(header)).unwrap();
    while !h.len().is_multiple_of(8) {
        h.push(b' ');
    }
    let mut out = (h.len() as u64).to_le_bytes().to_vec();
    out.extend(h);
    out.extend(data);
    out
}

fn f32_bytes(t: &HostTensor) -> Vec<u8> {
    t.data.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// The visible checkpoint's tensors as raw entries, with `edit` applied to the list first.
fn raw_visible(edit: impl FnOnce(&mut Vec<(String, String, Vec<usize>, Vec<u8>)>)) -> Vec<u8> {
    let ck = visible_checkpoint();
    let mut entries: Vec<_> =
        ck.params.iter().map(|(n, t)| (n.clone(), "F32".to_string(), t.shape.clone(), f32_bytes(t))).collect();
    edit(&mut entries);
    let borrowed: Vec<_> = entries.iter().map(|(n, d, s, b)| (n.as_str(), d.as_str(), s.clone(), b.clone())).collect();
    raw_safetensors(&borrowed, Some(&ck.config.to_json_string()))
}

#[test]
fn the_parity_weights_load_with_their_config_json() {
    let ck = visible_checkpoint();
    let expected: Vec<_> = params::expected(&ck.config).into_iter().map(|s| s.name).collect();
    assert_eq!(ck.params.keys().cloned().collect::<Vec<_>>(), expected);
    assert_eq!(ck.params.len(), 23);
    assert!(ck.dtypes.values().all(|&d| d == DType::F32));
    // The parity file carries no config of its own.
    let bytes = std::fs::read(visible().join("weights.safetensors")).unwrap();
    assert_eq!(Checkpoint::from_safetensors(&bytes, None), Err(CheckpointError::NoConfig));
    // From its path, config.json beside it is used; a directory resolves to weights.safetensors.
    assert_eq!(Checkpoint::open(&visible().join("weights.safetensors"), None).unwrap(), ck);
    assert_eq!(Checkpoint::open(&visible(), None).unwrap(), ck);
}

#[test]
fn save_then_load_is_bit_identical_and_carries_the_config() {
    let ck = visible_checkpoint();
    let bytes = ck.to_safetensors(DType::F32).unwrap();
    let back = Checkpoint::from_safetensors(&bytes, None).unwrap();
    assert_eq!(back.config, ck.config, "the config travels in __metadata__");
    assert_bit_identical(&ck.params, &back.params);
    assert_eq!(back.to_safetensors(DType::F32).unwrap(), bytes, "writing is deterministic");
    let meta = safetensors::read(&bytes).unwrap().config_json.unwrap();
    assert_eq!(Config::from_json_str(&meta).unwrap(), ck.config);

    // Through files too.
    let dir = std::env::temp_dir().join(format!("hrm-ckpt-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.safetensors");
    ck.save(&path, DType::F32).unwrap();
    let opened = Checkpoint::open(&path, None).unwrap();
    assert_bit_identical(&ck.params, &opened.params);
    assert_eq!(Checkpoint::open(&dir, None).unwrap(), opened, "a directory resolves to model.safetensors");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_fresh_model_round_trips() {
    let mut cfg = visible_config();
    cfg.pos_encodings = hrm::PosEncoding::Learned;
    cfg.puzzle_emb_ndim = 100; // two puzzle positions, a table of 100 columns
    cfg.num_puzzle_identifiers = 7;
    let ck = Checkpoint::init(cfg.clone(), 42).unwrap();
    assert_eq!(ck.params[&params::name("embed_pos.embedding_weight")].shape, vec![83, 64]);
    assert_eq!(ck.params[&params::name("puzzle_emb.weights")].shape, vec![7, 100]);
    let back = Checkpoint::from_safetensors(&ck.to_safetensors(DType::F32).unwrap(), None).unwrap();
    assert_eq!(back.config, cfg);
    assert_bit_identical(&ck.params, &back.params);
    assert_eq!(ck.parameter_count(), params::parameter_count(&cfg));
}

#[test]
fn f16_and_bf16_files_widen_to_f32() {
    let ck = visible_checkpoint();
    for dtype in [DType::F16, DType::BF16] {
        let bytes = ck.to_safetensors(dtype).unwrap();
        let back = Checkpoint::from_safetensors(&bytes, None).unwrap();
        assert!(back.dtypes.values().all(|&d| d == dtype));
        for (name, t) in &ck.params {
            let rounded: Vec<f32> = t
                .data
                .iter()
                .map(|&v| match dtype {
                    DType::F16 => half::f16::from_f32(v).to_f32(),
                    _ => half::bf16::from_f32(v).to_f32(),
                })
                .collect();
            assert!(back.params[name].data == rounded, "{name} as {dtype}");
        }
        // A narrowed file round-trips exactly.
        assert_eq!(back.to_safetensors(dtype).unwrap(), bytes);
        assert!(bytes.len() < ck.to_safetensors(DType::F32).unwrap().len() * 6 / 10);
    }
    // H_init/L_init of the parity set are bf16-representable: a bf16 file keeps them exactly.
    let bf = Checkpoint::from_safetensors(&ck.to_safetensors(DType::BF16).unwrap(), None).unwrap();
    assert_eq!(bf.params[&params::name("H_init")], ck.params[&params::name("H_init")]);

    let mut big = ck.clone();
    big.params.get_mut(&params::name("lm_head.weight")).unwrap().data[3] = 1.0e6;
    let e = big.to_safetensors(DType::F16).unwrap_err();
    assert!(e.to_string().contains("model.inner.lm_head.weight") && e.to_string().contains("F16"), "{e}");
}

#[test]
fn the_compiled_prefix_is_stripped() {
    let bytes = raw_visible(|entries| {
        for e in entries.iter_mut() {
            e.0 = format!("_orig_mod.{}", e.0);
        }
    });
    let ck = Checkpoint::from_safetensors(&bytes, None).unwrap();
    assert_bit_identical(&ck.params, &visible_checkpoint().params);

    let dup = raw_visible(|entries| {
        let mut twin = entries[0].clone();
        twin.0 = format!("_orig_mod.{}", twin.0);
        entries.push(twin);
    });
    let e = Checkpoint::from_safetensors(&dup, None).unwrap_err();
    assert_eq!(e, CheckpointError::Duplicate("model.inner.H_init".into()));
}

#[test]
fn refusals_name_the_tensor() {
    let check = |bytes: Vec<u8>, expect: CheckpointError| {
        let e = Checkpoint::from_safetensors(&bytes, None).unwrap_err();
        assert_eq!(e, expect);
        e.to_string()
    };
    let lm = "model.inner.lm_head.weight".to_string();

    let msg = check(
        raw_visible(|es| {
            let e = es.iter_mut().find(|e| e.0 == "model.inner.lm_head.weight").unwrap();
            e.2 = vec![11, 32];
            e.3.truncate(11 * 32 * 4);
        }),
        CheckpointError::Shape { name: lm.clone(), expected: vec![11, 64], found: vec![11, 32] },
    );
    assert!(msg.contains("model.inner.lm_head.weight") && msg.contains("[11, 32]"), "{msg}");

    let msg = check(raw_visible(|es| es.retain(|e| e.0 != "model.inner.q_head.bias")), CheckpointError::Missing("model.inner.q_head.bias".into()));
    assert!(msg.contains("missing tensor `model.inner.q_head.bias`"), "{msg}");

    let msg = check(
        raw_visible(|es| es.push(("model.inner.final_norm.weight".into(), "F32".into(), vec![64], vec![0; 256]))),
        CheckpointError::Unexpected("model.inner.final_norm.weight".into()),
    );
    assert!(msg.contains("model.inner.final_norm.weight"), "{msg}");

    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let bytes = raw_visible(|es| {
            let e = es.iter_mut().find(|e| e.0 == "model.inner.H_init").unwrap();
            e.3[20..24].copy_from_slice(&bad.to_le_bytes());
        });
        let e = Checkpoint::from_safetensors(&bytes, None).unwrap_err();
        match &e {
            CheckpointError::NonFinite { name, index, .. } => assert_eq!((name.as_str(), *index), ("model.inner.H_init", 5)),
            other => panic!("{other:?}"),
        }
        assert!(e.to_string().contains("model.inner.H_init"), "{e}");
    }

    let msg = check(
        raw_visible(|es| {
            let e = es.iter_mut().find(|e| e.0 == "model.inner.lm_head.weight").unwrap();
            e.1 = "I32".into();
        }),
        CheckpointError::Dtype { name: lm.clone(), dtype: "I32".into() },
    );
    assert!(msg.contains("model.inner.lm_head.weight") && msg.contains("I32"), "{msg}");
    let e = Checkpoint::from_safetensors(
        &raw_visible(|es| {
            let e = es.iter_mut().find(|e| e.0 == "model.inner.q_head.bias").unwrap();
            e.1 = "F64".into();
            e.2 = vec![1];
        }),
        None,
    )
    .unwrap_err();
    assert!(matches!(&e, CheckpointError::Dtype { name, .. } if name == "model.inner.q_head.bias"), "{e:?}");

    // A checkpoint is checked against the config it runs with: a config for another model is refused.
    let mut other = visible_config();
    other.h_layers = 3;
    let bytes = visible_checkpoint().to_safetensors(DType::F32).unwrap();
    let e = Checkpoint::from_safetensors(&bytes, Some(&other)).unwrap_err();
    assert_eq!(e, CheckpointError::Missing("model.inner.H_level.layers.2.mlp.down_proj.weight".into()));

    // A config in the metadata that is not valid is reported as a config error naming the field.
    let mut bytes = raw_visible(|_| {});
    let needle = b"\\\"hidden_size\\\": 64";
    let at = bytes.windows(needle.len()).position(|w| w == needle).expect("config in header");
    bytes[at + needle.len() - 2..at + needle.len()].copy_from_slice(b"-1");
    let e = Checkpoint::from_safetensors(&bytes, None).unwrap_err();
    assert!(matches!(e, CheckpointError::Config(_)) && e.to_string().contains("hidden_size"), "{e}");
}

#[test]
fn truncated_and_foreign_files_are_refused() {
    let bytes = visible_checkpoint().to_safetensors(DType::F32).unwrap();
    for cut in [0, 3, 8, 50, 200, bytes.len() / 2, bytes.len() - 1] {
        let e = Checkpoint::from_safetensors(&bytes[..cut], None).unwrap_err();
        assert!(matches!(e, CheckpointError::Format(_)), "cut at {cut}: {e:?}");
        assert!(e.to_string().contains("safetensors"), "{e}");
    }
    let torch = std::fs::read(hrm_tests::fixtures().join("torch-checkpoint/checkpoint")).unwrap();
    let e = Checkpoint::from_safetensors(&torch, None).unwrap_err();
    assert!(matches!(e, CheckpointError::Format(_)), "{e:?}");
    let e = Checkpoint::from_safetensors(b"{\"hello\": \"world\"}", None).unwrap_err();
    assert!(matches!(e, CheckpointError::Format(_)), "{e:?}");
    // Bytes appended after the data are not a valid file either.
    let mut longer = bytes.clone();
    longer.extend_from_slice(&[0; 4]);
    assert!(Checkpoint::from_safetensors(&longer, None).is_err());
    // Missing files name the path.
    let e = Checkpoint::open(std::path::Path::new("/nonexistent/model.safetensors"), None).unwrap_err();
    assert!(e.to_string().contains("/nonexistent/model.safetensors"), "{e}");
}


#[test]
fn bounded_fuzz_never_panics() {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let good = visible_checkpoint().to_safetensors(DType::F16).unwrap();
    let header_len = u64::from_le_bytes(good[..8].try_into().unwrap()) as usize + 8;
    let mut refused = 0;
    for case in 0..600 {
        let bytes = match case % 3 {
            // Random bytes, sometimes with a plausible header length in front.
            0 => {
                let n = rng.below(300);
                let mut b: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                if n >= 8 && rng.below(2) == 0 {
                    b[..8].copy_from_slice(&((n as u64 - 8).min(rng.below(n) as u64)).to_le_bytes());
                }
                b
            }
            // A good file with a few bytes of its header changed.
            1 => {
                let mut b = good.clone();
                for _ in 0..1 + rng.below(4) {
                    let at = rng.below(header_len);
                    b[at] = rng.next() as u8;
                }
                b
            }
            // A good file cut short or with data bytes changed.
            _ => {
                let mut b = good.clone();
                if rng.below(2) == 0 {
                    b.truncate(rng.below(b.len()));
                } else {
                    for _ in 0..8 {
                        let at = header_len + rng.below(b.len() - header_len);
                        b[at] = rng.next() as u8;
                    }
                }
                b
            }
        };
        if Checkpoint::from_safetensors(&bytes, None).is_err() {
            refused += 1;
        }
        let _ = checkpoint::safetensors::read(&bytes);
    }
    assert!(refused > 300, "most mutations must be refused, {refused} were");
}

#[test]
fn fixture_files_of_any_dtype_can_be_read() {
    let batch = safetensors::read_all(&std::fs::read(visible().join("batch.safetensors")).unwrap()).unwrap();
    let inputs = &batch["inputs"];
    assert_eq!(inputs.shape, vec![4, 81]);
    let tokens = inputs.to_i64().unwrap();
    assert!(tokens.iter().all(|&t| (0..11).contains(&t)), "sudoku tokens 0..=10");
    assert!(inputs.to_f32().is_none());
    let fwd = safetensors::read_all(&std::fs::read(visible().join("forward.safetensors")).unwrap()).unwrap();
    assert!(matches!(fwd["loss_1"].values, safetensors::Values::F64(_)), "{:?}", fwd["loss_1"].values);
    assert_eq!(fwd["logits_1"].shape, vec![4, 81, 11]);
    assert_eq!(fwd["halted_4"].to_i64().unwrap(), vec![1, 1, 1, 1], "eval halts every row at halt_max_steps");
    // The f32 view agrees with the checkpoint reader on the weights file.
    let w = safetensors::read_all(&std::fs::read(visible().join("weights.safetensors")).unwrap()).unwrap();
    let ck = visible_checkpoint();
    for (name, t) in &ck.params {
        assert_eq!(w[name].to_f32().unwrap(), t.data, "{name}");
    }
}

/// The official init from a seed is the same bits on every platform: the native build must match the
/// checksums in `fixtures/init_checksums_seed7.txt` (written by this build of `params::init`), and
/// tests/wasm_checkpoint.rs checks the wasm32 build against the same file.
#[test]
fn init_bits_match_the_recorded_checksums() {
    let ck = Checkpoint::init(visible_config(), 7).unwrap();
    let sums: Vec<String> = ck.params.values().map(|t| format!("0x{:016x}", t.checksum())).collect();
    let text = format!("[{}]\n", sums.join(", "));
    let path = hrm_tests::fixtures().join("init_checksums_seed7.txt");
    if std::env::var_os("HRM_WRITE_INIT_CHECKSUMS").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "regenerate with HRM_WRITE_INIT_CHECKSUMS=1 if init changed on purpose");
}

#[test]
fn averaging_takes_the_elementwise_mean_and_the_last_config() {
    let a = visible_checkpoint();
    let mut cfg = a.config.clone();
    cfg.halt_max_steps = 16; // a setting, not a shape: the output keeps the last input's
    let b = Checkpoint::init(cfg.clone(), 7).unwrap();
    let mean = checkpoint::average(&[&a, &b]).unwrap();
    assert_eq!(mean.config, cfg);
    assert_eq!(mean.params.keys().collect::<Vec<_>>(), a.params.keys().collect::<Vec<_>>());
    for (name, t) in &mean.params {
        let want: Vec<u32> = a.params[name].data.iter().zip(&b.params[name].data).map(|(x, y)| ((f64::from(*x) + f64::from(*y)) / 2.0) as f32).map(f32::to_bits).collect();
        assert!(bits(t) == want, "{name}: not the mean of the two inputs");
    }
    // three inputs weigh equally, and the mean of copies of one model is that model
    let three = checkpoint::average(&[&a, &b, &b]).unwrap();
    let name = params::name("lm_head.weight");
    let (x, y) = (a.params[&name].data[5], b.params[&name].data[5]);
    assert!((three.params[&name].data[5] - (x + 2.0 * y) / 3.0).abs() <= 1e-6 * (x.abs() + y.abs()), "{x} {y}");
    assert_bit_identical(&checkpoint::average(&[&a, &a, &a]).unwrap().params, &a.params);
}

#[test]
fn averaging_refuses_other_architectures_naming_the_tensor_and_input() {
    let a = visible_checkpoint();
    let mut cfg = a.config.clone();
    cfg.hidden_size = 32;
    let narrow = Checkpoint::init(cfg, 1).unwrap();
    let e = checkpoint::average(&[&a, &a, &narrow]).unwrap_err().to_string();
    assert!(e.contains("input 3 has shape [") && e.contains(", input 1 ["), "{e}");
    let mut fewer = a.clone();
    let gone = params::name("lm_head.weight");
    fewer.params.remove(&gone);
    let e = checkpoint::average(&[&a, &fewer]).unwrap_err().to_string();
    assert!(e.contains(&gone) && e.contains("input 2 lacks it"), "{e}");
    let e = checkpoint::average(&[&fewer, &a]).unwrap_err().to_string();
    assert!(e.contains(&gone) && e.contains("input 2 has it, input 1 does not"), "{e}");
    assert!(checkpoint::average(&[]).is_err());
}
