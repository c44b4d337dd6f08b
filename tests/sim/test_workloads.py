"""Workload presets against published model sizes, and the CSV / SCALE-Sim importers."""

import pytest

from lowbit.sim import workloads as W


def _weights(ops, names=None):
    """Weight elements the GEMMs read (K x N per distinct layer, times its repeat)."""
    return sum(op.k * op.n * op.repeat for op in ops if names is None or op.name in names)


def test_llama2_7b_decode_macs_are_the_published_parameter_count_minus_embeddings():
    ops = W.llama2_7b_decode(batch=1, context=1024)
    linear = [op for op in ops if not op.name.startswith("attn_")]
    # LLaMA-2-7B has 6,738,415,616 parameters: minus the 32000x4096 token embedding and the
    # 65 RMSNorm weight vectors of 4096, every one is a weight of one linear layer.
    assert sum(op.macs for op in linear) == 6_738_415_616 - 32000 * 4096 - 65 * 4096
    assert all(op.m == 1 and op.is_gemv for op in linear)
    scores = next(op for op in ops if op.name == "attn_scores")
    assert (scores.m, scores.k, scores.n, scores.repeat) == (1, 128, 1024, 32 * 32)


def test_llama2_7b_batch_and_prefill_shapes():
    d8 = {op.name: op for op in W.llama2_7b_decode(batch=8)}
    assert d8["q_proj"].m == 8 and d8["attn_scores"].repeat == 32 * 32 * 8
    pre = {op.name: op for op in W.llama2_7b_prefill(seq_len=2048)}
    assert (pre["down_proj"].m, pre["down_proj"].k, pre["down_proj"].n) == (2048, 11008, 4096)
    assert (pre["attn_values"].m, pre["attn_values"].k) == (2048, 2048)


def test_resnet50_conv_weights_are_the_published_parameter_count():
    ops = W.resnet50()
    convs = [op for op in ops if op.name.startswith("conv")]
    # torchvision resnet50: 25,557,032 parameters = conv weights + fc (2048x1000 + 1000 bias)
    # + BatchNorm (weight and bias for each of 26,560 channels).
    assert _weights(convs) == 25_557_032 - (2048 * 1000 + 1000) - 2 * 26_560
    # torchvision lists 4.09 GFLOPS (multiply-accumulates) at 224x224
    assert 4.05e9 < W.total_macs(ops) < 4.13e9
    assert W.total_macs(W.resnet50(batch=4)) == 4 * W.total_macs(ops)


def test_vit_b16_gemm_weights_are_the_published_parameter_count():
    ops = W.vit_b16()
    non_gemm = (197 * 768 + 768          # position embedding, class token
                + 768 + 1000             # patch-embedding bias, head bias
                + 12 * (2304 + 768 + 3072 + 768 + 4 * 768)  # biases and two LayerNorms
                + 2 * 768)               # final LayerNorm
    attention = {"attn_scores", "attn_values"}
    assert _weights([op for op in ops if op.name not in attention]) == 86_567_656 - non_gemm


def test_preset_lookup_and_errors():
    assert W.preset("vit-b16", batch=2)[0].m == 392
    with pytest.raises(W.WorkloadError, match="workload preset must be one of llama2-7b-decode"):
        W.preset("gpt5")
    with pytest.raises(W.WorkloadError, match="llama2-7b-decode takes batch, context, a_fmt"):
        W.preset("llama2-7b-decode", seq_len=3)
    with pytest.raises(W.WorkloadError,
                       match="llama2-7b-decode batch must be an integer from 1 to 4096, not 0"):
        W.preset("llama2-7b-decode", batch=0)
    with pytest.raises(W.WorkloadError, match="a_fmt: unknown format 'fp7'"):
        W.preset("resnet50", a_fmt="fp7")


def test_gemm_op_validation():
    with pytest.raises(W.WorkloadError, match="x: k must be an integer from 1"):
        W.GemmOp("x", 4, 0, 4)
    with pytest.raises(W.WorkloadError, match="x: repeat must be an integer from 1"):
        W.GemmOp("x", 4, 4, 4, repeat=-1)


def test_read_csv_lowbit_columns_and_scalesim_gemm(tmp_path):
    ours = tmp_path / "ops.csv"
    ours.write_text("name,M,K,N,repeat,b_fmt\nproj,16,4096,4096,32,mxfp4\nhead,1,4096,32000,,\n")
    ops = W.read_csv(ours, a_fmt="fp8_e4m3")
    assert [(o.name, o.m, o.k, o.n, o.repeat, o.a_fmt, o.b_fmt) for o in ops] == [
        ("proj", 16, 4096, 4096, 32, "fp8_e4m3", "mxfp4"),
        ("head", 1, 4096, 32000, 1, "fp8_e4m3", "int8")]
    scalesim = tmp_path / "gemm_topo.csv"
    scalesim.write_text("Layer, M, N, K,\nfc1, 64, 128, 256,\n")
    (op,) = W.read_csv(scalesim)
    assert (op.name, op.m, op.n, op.k) == ("fc1", 64, 128, 256)


def test_read_csv_scalesim_convolution_topology(tmp_path):
    topo = tmp_path / "conv.csv"
    topo.write_text("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, "
                    "Channels, Num Filter, Strides,\nConv1, 224, 224, 7, 7, 3, 64, 2,\n"
                    "CB2a_1, 56, 56, 1, 1, 64, 64, 1,\n")
    ops = W.read_csv(topo)
    # no padding, as SCALE-Sim: (224 - 7) // 2 + 1 = 109 output rows and columns
    assert [(o.name, o.m, o.k, o.n) for o in ops] == [("Conv1", 109 * 109, 147, 64),
                                                      ("CB2a_1", 56 * 56, 64, 64)]


@pytest.mark.parametrize("text, message", [
    ("name,M,K\nx,1,2\n", "the header needs columns M, K, N"),
    ("name,M,K,N\nx,1,two,3\n", "line 2: k must be an integer, not 'two'"),
    ("name,M,K,N\nx,1,2,0\n", "line 2: x: n must be an integer from 1"),
    ("name,M,K,N,a_fmt\nx,1,2,3,fp9\n", "line 2: x: a_fmt: unknown format 'fp9'"),
    ("", "is empty"),
])
def test_read_csv_errors_name_the_line_and_field(tmp_path, text, message):
    path = tmp_path / "w.csv"
    path.write_text(text)
    with pytest.raises(W.WorkloadError, match=message):
        W.read_csv(path)


def test_read_csv_missing_file(tmp_path):
    with pytest.raises(W.WorkloadError, match="does not exist"):
        W.read_csv(tmp_path / "nope.csv")
