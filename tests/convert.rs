//! `hrm convert`'s core: a released-layout `torch.save` checkpoint (zip + pickle, `_orig_mod.` names,
//! cuda:0 storages, bf16 init buffers) becomes exactly the parity weights; bad inputs give clear errors.

use std::io::{Read, Write};
use std::path::PathBuf;

use hrm::checkpoint::{self, DType};
use hrm::{params, Checkpoint, CheckpointError, Config};
use hrm_tests::XorShift;

fn torch_dir() -> PathBuf {
    hrm_tests::fixtures().join("torch-checkpoint")
}

fn torch_bytes() -> Vec<u8> {
    std::fs::read(torch_dir().join("checkpoint")).unwrap()
}

fn yaml() -> String {
    std::fs::read_to_string(torch_dir().join("all_config.yaml")).unwrap()
}

fn reference() -> Checkpoint {
    let visible = hrm_tests::fixtures().join("parity/visible");
    let cfg = Config::from_json_str(&std::fs::read_to_string(visible.join("config.json")).unwrap()).unwrap();
    Checkpoint::from_safetensors(&std::fs::read(visible.join("weights.safetensors")).unwrap(), Some(&cfg)).unwrap()
}

fn assert_same_tensors(a: &Checkpoint, b: &Checkpoint) {
    assert_eq!(a.params.keys().collect::<Vec<_>>(), b.params.keys().collect::<Vec<_>>());
    for (name, t) in &a.params {
        let u = &b.params[name];
        assert_eq!(t.shape, u.shape, "{name}");
        let (x, y): (Vec<u32>, Vec<u32>) = (t.data.iter().map(|v| v.to_bits()).collect(), u.data.iter().map(|v| v.to_bits()).collect());
        assert!(x == y, "{name} differs");
    }
}

#[test]
fn converting_the_released_layout_reproduces_the_parity_weights() {
    let ck = Checkpoint::from_torch(&torch_bytes(), &yaml(), None).unwrap();
    let want = reference();
    assert_same_tensors(&ck, &want);
    assert_eq!(ck.dtypes[&params::name("H_init")], DType::BF16);
    assert_eq!(ck.dtypes[&params::name("L_init")], DType::BF16);
    assert_eq!(ck.dtypes[&params::name("lm_head.weight")], DType::F32);

    // The config: vocab and puzzle ids from the tensor shapes, seq_len 81 from the sudoku data_path.
    // batch_size comes from the yaml's global_batch_size and forward_dtype (absent there) takes the
    // official default; the parity config.json set those two for its own run.
    assert_eq!((ck.config.vocab_size, ck.config.num_puzzle_identifiers, ck.config.seq_len), (11, 1, 81));
    assert_eq!((ck.config.batch_size, ck.config.forward_dtype.as_str()), (768, "bfloat16"));
    let mut same = ck.config.clone();
    same.batch_size = want.config.batch_size;
    same.forward_dtype = want.config.forward_dtype.clone();
    assert_eq!(same, want.config);

    // As `hrm convert` writes it and the model then reads it: one file, config included.
    let back = Checkpoint::from_safetensors(&ck.to_safetensors(DType::F32).unwrap(), None).unwrap();
    assert_same_tensors(&back, &want);
    assert_eq!(back.config, ck.config);
}

#[test]
fn open_recognises_the_torch_file_and_its_directory() {
    let by_file = Checkpoint::open(&torch_dir().join("checkpoint"), None).unwrap();
    let by_dir = Checkpoint::open(&torch_dir(), None).unwrap();
    assert_eq!(by_file, by_dir);
    assert_same_tensors(&by_file, &reference());
    // Without its all_config.yaml a torch file cannot be converted; the error says what is missing.
    let dir = std::env::temp_dir().join(format!("hrm-convert-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("checkpoint"), torch_bytes()).unwrap();
    let e = Checkpoint::open(&dir, None).unwrap_err();
    assert!(e.to_string().contains("all_config.yaml"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn seq_len_rules() {
    // An explicit --seq-len wins for a RoPE model.
    let ck = Checkpoint::from_torch(&torch_bytes(), &yaml(), Some(100)).unwrap();
    assert_eq!(ck.config.seq_len, 100);
    // A dataset the converter does not know: it asks for --seq-len.
    let unknown = yaml().replace("data/sudoku-extreme-1k-aug-1000", "data/my-puzzles");
    let e = Checkpoint::from_torch(&torch_bytes(), &unknown, None).unwrap_err();
    assert!(matches!(e, CheckpointError::SeqLen(_)) && e.to_string().contains("--seq-len"), "{e}");
    let maze = yaml().replace("data/sudoku-extreme-1k-aug-1000", "data/maze-30x30-hard-1k");
    assert_eq!(Checkpoint::from_torch(&torch_bytes(), &maze, None).unwrap().config.seq_len, 900);
}

/// Rewrites the fixture archive entry by entry: `edit(name, bytes)` returns the new bytes, or None to drop it.
fn rezip(edit: impl Fn(&str, Vec<u8>) -> Option<Vec<u8>>) -> Vec<u8> {
    let src = torch_bytes();
    let mut zin = zip::ZipArchive::new(std::io::Cursor::new(&src[..])).unwrap();
    let mut zout = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for i in 0..zin.len() {
        let mut f = zin.by_index(i).unwrap();
        let name = f.name().unwrap().to_string();
        let mut data = Vec::new();
        f.read_to_end(&mut data).unwrap();
        if let Some(data) = edit(&name, data) {
            zout.start_file(name, opts).unwrap();
            zout.write_all(&data).unwrap();
        }
    }
    zout.finish().unwrap().into_inner()
}

fn replace(hay: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let at = hay.windows(from.len()).position(|w| w == from).expect("pattern present");
    let mut out = hay.to_vec();
    out[at..at + to.len()].copy_from_slice(to);
    out
}

#[test]
fn rezipping_unchanged_converts_the_same() {
    let same = rezip(|_, d| Some(d));
    assert_same_tensors(&Checkpoint::from_torch(&same, &yaml(), None).unwrap(), &reference());
}

#[test]
fn bad_checkpoints_give_errors_that_name_the_problem() {
    let convert = |bytes: &[u8], yaml: &str| Checkpoint::from_torch(bytes, yaml, None).unwrap_err();

    // Not a zip at all: a safetensors file, text, nothing.
    let st = reference().to_safetensors(DType::F32).unwrap();
    for bytes in [&st[..], b"hello world", b""] {
        let e = convert(bytes, &yaml());
        assert!(e.to_string().contains("not a zip archive"), "{e}");
    }
    // Truncated archives.
    let good = torch_bytes();
    for cut in [4, 100, 3000, good.len() / 2, good.len() - 30] {
        let e = convert(&good[..cut], &yaml());
        assert!(matches!(e, CheckpointError::Format(_)), "cut {cut}: {e:?}");
    }
    // A zip that is not a torch.save file.
    let other = rezip(|name, d| (!name.ends_with("data.pkl")).then_some(d));
    assert!(convert(&other, &yaml()).to_string().contains("data.pkl"));
    // A storage file missing or cut short: the error names the tensor or the entry.
    let no_storage = rezip(|name, d| (name != "checkpoint/data/19").then_some(d));
    let e = convert(&no_storage, &yaml());
    assert!(e.to_string().contains("checkpoint/data/19"), "{e}");
    let short = rezip(|name, mut d| {
        if name == "checkpoint/data/19" {
            d.truncate(100);
        }
        Some(d)
    });
    let e = convert(&short, &yaml());
    assert!(e.to_string().contains("model.inner.lm_head.weight") && e.to_string().contains("holds 25 values"), "{e}");
    // A changed byte in a stored entry fails its CRC check.
    let pos = good.windows(8).position(|w| w == b"H_init\x71\x01").unwrap();
    let mut flipped = good.clone();
    flipped[pos] ^= 0x20;
    let e = convert(&flipped, &yaml());
    assert!(matches!(e, CheckpointError::Format(_)), "{e:?}");
    // A renamed tensor: the converted state dict no longer matches the model.
    let renamed = rezip(|name, d| {
        Some(if name.ends_with("data.pkl") { replace(&d, b"lm_head.weight", b"lm_head.weighX") } else { d })
    });
    let e = convert(&renamed, &yaml());
    assert_eq!(e, CheckpointError::Missing("model.inner.lm_head.weight".into()));
    // A non-float storage.
    let ints = rezip(|name, d| {
        Some(if name.ends_with("data.pkl") { replace(&d, b"FloatStorage", b"ShortStorage") } else { d })
    });
    let e = convert(&ints, &yaml());
    assert!(matches!(&e, CheckpointError::Dtype { dtype, .. } if dtype == "ShortStorage"), "{e:?}");
    // A pickle that is not a state dict of tensors.
    let not_tensors = rezip(|name, d| {
        Some(if name.ends_with("data.pkl") { vec![0x80, 2, b'}', 0x8c, 1, b'a', b'K', 1, b's', b'.'] } else { d })
    });
    let e = convert(&not_tensors, &yaml());
    assert!(e.to_string().contains("`a`") && e.to_string().contains("not a tensor"), "{e}");
    let list = rezip(|name, d| Some(if name.ends_with("data.pkl") { vec![0x80, 2, b']', b'.'] } else { d }));
    assert!(convert(&list, &yaml()).to_string().contains("not a state dict"));
    // Wrong shapes: the yaml describes another model than the tensors hold.
    let e = convert(&good, &yaml().replace("hidden_size: 64", "hidden_size: 32"));
    match &e {
        CheckpointError::Shape { name, .. } => assert!(name.starts_with("model.inner."), "{e}"),
        other => panic!("{other:?}"),
    }
    let e = convert(&good, &yaml().replace("puzzle_emb_ndim: 64", "puzzle_emb_ndim: 128"));
    assert!(matches!(&e, CheckpointError::Shape { name, .. } if name == "model.inner.puzzle_emb.weights"), "{e:?}");
    let e = convert(&good, &yaml().replace("H_layers: 2", "H_layers: 1"));
    assert_eq!(e, CheckpointError::Unexpected("model.inner.H_level.layers.1.mlp.down_proj.weight".into()));
    // A yaml without the arch section.
    assert!(convert(&good, "lr: 1\ndata_path: data/sudoku\n").to_string().contains("arch"));
}


#[test]
fn bounded_fuzz_of_the_zip_and_pickle_readers_never_panics() {
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    let yaml = yaml();
    let good = torch_bytes();
    let pkl = {
        let mut z = zip::ZipArchive::new(std::io::Cursor::new(&good[..])).unwrap();
        let mut d = Vec::new();
        z.by_name("checkpoint/data.pkl").unwrap().read_to_end(&mut d).unwrap();
        d
    };
    // Random bytes, with and without a zip signature.
    for i in 0..300 {
        let n = rng.below(400);
        let mut b: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
        if i % 2 == 0 && n >= 4 {
            b[..4].copy_from_slice(b"PK\x03\x04");
        }
        assert!(checkpoint::torch::read(&b).is_err());
    }
    // The archive's structure changed (headers and central directory live in the first and last bytes).
    for _ in 0..150 {
        let mut b = good.clone();
        for _ in 0..1 + rng.below(3) {
            let at = if rng.below(2) == 0 { rng.below(4096) } else { b.len() - 1 - rng.below(2048) };
            b[at] = rng.next() as u8;
        }
        let _ = Checkpoint::from_torch(&b, &yaml, None);
    }
    // The pickle program mutated, then zipped with a correct CRC so that the pickle VM sees it.
    let mut archives = Vec::new();
    for _ in 0..150 {
        let mut p = pkl.clone();
        match rng.below(3) {
            0 => p.truncate(rng.below(p.len())),
            1 => {
                for _ in 0..1 + rng.below(6) {
                    let at = rng.below(p.len());
                    p[at] = rng.next() as u8;
                }
            }
            _ => {
                let at = rng.below(p.len());
                let len = rng.below(40).min(p.len() - at);
                let chunk = p[at..at + len].to_vec();
                let to = rng.below(p.len());
                p.splice(to..to, chunk);
            }
        }
        archives.push(p);
    }
    let mut results = (0, 0);
    for p in archives {
        let bytes = rezip(|name, d| Some(if name.ends_with("data.pkl") { p.clone() } else { d }));
        match Checkpoint::from_torch(&bytes, &yaml, None) {
            Ok(_) => results.0 += 1,
            Err(_) => results.1 += 1,
        }
    }
    assert!(results.1 > 100, "most mutated pickles are refused: {results:?}");
}

#[test]
fn the_info_summary_lists_every_tensor() {
    let ck = Checkpoint::from_torch(&torch_bytes(), &yaml(), None).unwrap();
    let text = ck.summary();
    assert!(text.contains(&format!("parameters: {} trainable values", params::parameter_count(&ck.config))), "{text}");
    assert!(text.contains("total_seq 82") && text.contains("swiglu_width 256"), "{text}");
    for (name, t) in &ck.params {
        let line = text.lines().find(|l| l.trim_start().starts_with(&format!("{name} "))).unwrap_or_else(|| panic!("{name} listed"));
        assert!(line.contains(&format!("{:016x}", t.checksum())), "{line}");
        assert!(line.contains(&format!("{:?}", t.shape)), "{line}");
        assert!(line.contains(&ck.dtypes[name].to_string()), "{line}");
    }
    let h_init = text.lines().find(|l| l.contains("model.inner.H_init")).unwrap();
    assert!(h_init.contains("BF16"), "{h_init}");
    // The checksum is a fingerprint of the values: the parity file's tensors give the same ones.
    assert_eq!(reference().params[&params::name("H_init")].checksum(), ck.params[&params::name("H_init")].checksum());
}

/// The converted model runs and reproduces the official eval outputs (forward.safetensors of the parity
/// set: every segment's logits, Q logits and carries within 1e-4, steps and halted exact), with the
/// config exactly as conversion built it from the yaml.
#[test]
fn the_converted_model_reproduces_the_official_eval_segments() {
    use hrm::backend::CpuBackend;
    use hrm::checkpoint::safetensors::read_all;
    use hrm::model::{Batch, Hrm};

    let ck = Checkpoint::from_torch(&torch_bytes(), &yaml(), None).unwrap();
    let visible = hrm_tests::fixtures().join("parity/visible");
    let b = read_all(&std::fs::read(visible.join("batch.safetensors")).unwrap()).unwrap();
    let fw = read_all(&std::fs::read(visible.join("forward.safetensors")).unwrap()).unwrap();
    let ints = |name: &str| -> Vec<i32> { b[name].to_i64().unwrap().into_iter().map(|x| x as i32).collect() };
    let ids = ints("puzzle_identifiers");
    let batch = Batch::new(ids.len(), ck.config.seq_len, ints("inputs"), ints("labels"), ids).unwrap();

    let mut model = Hrm::new(CpuBackend, &ck.config, &ck.params).unwrap();
    let mut carry = model.initial_carry(&batch);
    let worst = |got: &[f32], name: &str| -> f64 {
        let want = fw[name].to_f64();
        assert_eq!(got.len(), want.len(), "{name}");
        got.iter().zip(&want).map(|(&g, &w)| (g as f64 - w).abs()).fold(0.0, f64::max)
    };
    let mut segments = 0;
    for s in 1.. {
        if !fw.contains_key(&format!("logits_{s}")) {
            break;
        }
        let out = pollster::block_on(model.eval_segment(&mut carry, &batch, None)).unwrap();
        let logits = pollster::block_on(model.read_logits());
        for (got, name) in [
            (&logits[..], format!("logits_{s}")),
            (&out.q_halt[..], format!("q_halt_logits_{s}")),
            (&out.q_continue[..], format!("q_continue_logits_{s}")),
            (&carry.z_h[..], format!("z_H_{s}")),
            (&carry.z_l[..], format!("z_L_{s}")),
        ] {
            let err = worst(got, &name);
            assert!(err < 1e-4, "{name}: worst |error| {err:.3e}");
        }
        let steps: Vec<i64> = out.steps.iter().map(|&x| x as i64).collect();
        let halted: Vec<i64> = out.halted.iter().map(|&x| x as i64).collect();
        assert_eq!(steps, fw[&format!("steps_{s}")].to_i64().unwrap(), "steps_{s}");
        assert_eq!(halted, fw[&format!("halted_{s}")].to_i64().unwrap(), "halted_{s}");
        segments += 1;
    }
    assert_eq!(segments, ck.config.halt_max_steps, "eval runs until every row halts at halt_max_steps");
}
