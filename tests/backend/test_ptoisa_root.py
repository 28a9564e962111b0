"""Finding PTO-ISA and its compiler (``compiler.ptoisa_root``), the flags that give its CPU
simulation a real bfloat16, and the verifier's pieces that need neither: the ulp distance and the
attribution of compiler errors to kernels."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from pto_wsp.compiler import ptoisa_root
from pto_wsp.compiler.ptoisa_root import ENV_CXX, ENV_ROOT, find_compiler, find_root
from pto_wsp.errors import CompileError
from pto_wsp.runtime.ptoisa_verify import failing_kernels, ulp_distance


def fake_root(where: Path) -> Path:
    (where / "include" / "pto").mkdir(parents=True)
    (where / "include" / "pto" / "pto-inst.hpp").write_text("// a PTO-ISA checkout\n")
    return where


def test_explicit_setting_wins_over_the_environment(tmp_path, monkeypatch) -> None:
    env, explicit = fake_root(tmp_path / "env"), fake_root(tmp_path / "explicit")
    monkeypatch.setenv(ENV_ROOT, str(env))
    assert find_root(explicit) == explicit.resolve()
    assert find_root(None) == env.resolve()
    assert find_root("") == env.resolve()  # an empty Studio setting is no setting


def test_no_root_is_one_message_naming_the_settings(monkeypatch) -> None:
    monkeypatch.delenv(ENV_ROOT, raising=False)
    with pytest.raises(CompileError) as err:
        find_root(None)
    msg = err.value.message
    assert msg.startswith("no PTO-ISA root is set;")
    for setting in ("PTO_ISA_ROOT", "--pto-isa DIR", "include/pto/pto-inst.hpp"):
        assert setting in msg


def test_a_folder_that_is_not_a_checkout_is_named(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(ENV_ROOT, str(tmp_path))
    with pytest.raises(CompileError, match=r"has no include/pto/pto-inst.hpp") as err:
        find_root(None)
    assert f"from ${ENV_ROOT}" in err.value.message and str(tmp_path) in err.value.message


def test_no_clang_19_names_the_package(tmp_path, monkeypatch) -> None:
    gxx = tmp_path / "bin" / "clang++"  # an old clang on PATH does not count
    gxx.parent.mkdir()
    gxx.write_text("#!/bin/sh\necho 'clang version 14.0.6'\n")
    gxx.chmod(0o755)
    monkeypatch.setenv("PATH", str(gxx.parent))
    monkeypatch.delenv(ENV_CXX, raising=False)
    ptoisa_root._clang_major.cache_clear()
    try:
        with pytest.raises(CompileError) as err:
            find_compiler()
    finally:
        ptoisa_root._clang_major.cache_clear()
    assert "install clang-19" in err.value.message and ENV_CXX in err.value.message


def test_explicit_compiler_must_exist(monkeypatch) -> None:
    monkeypatch.setenv(ENV_CXX, "no-such-compiler-xyz")
    with pytest.raises(CompileError, match="PTO_ISA_CXX names 'no-such-compiler-xyz'"):
        find_compiler()
    monkeypatch.setenv(ENV_CXX, os.environ.get("SHELL", "/bin/sh"))
    assert Path(find_compiler()).is_file()


def test_ulp_distance() -> None:
    one = np.float32(1.0)
    a = np.array([1.0, -0.0, np.nan, 2.0, -1.0], np.float32)
    b = np.array([np.nextafter(one, np.float32(2)), 0.0, np.nan, 2.0, -1.0], np.float32)
    assert ulp_distance(a, b).tolist() == [1, 0, 0, 0, 0]
    assert ulp_distance(np.array([np.nan], np.float32), np.array([1.0], np.float32))[0] > 2**40
    # across zero: -tiny to +tiny is two steps
    t = np.float32(np.finfo(np.float32).smallest_subnormal)
    assert ulp_distance(np.array([-t]), np.array([t])).tolist() == [2]
    assert ulp_distance(np.array([3], np.int8), np.array([-2], np.int8)).tolist() == [5]


def test_compiler_errors_are_charged_to_the_kernel_that_instantiated_them() -> None:
    stderr = "\n".join(
        [
            "In file included from u.cpp:4:",
            "In file included from /t/aicore/kernel_3_k_rowsum.cpp:13:",
            "/p/include/pto/cpu/TRowSum.hpp:46:5: error: static assertion failed: Not supported",
            "/p/include/pto/common/pto_instr.hpp:1553:5: note: in instantiation of ... here",
            "/t/aicore/kernel_3_k_rowsum.cpp:29:10: note: in instantiation of ... here",
            "/t/aicore/kernel_7_k_x.cpp:30:5: error: use of undeclared identifier 'TFOO'",
            "/p/include/pto/cpu/TSqrt.hpp:45:42: error: call to deleted copy constructor",
            "/t/aicore/kernel_9_k_sqrt.cpp:27:10: note: in instantiation of ... here",
        ]
    )
    assert failing_kernels(stderr) == {
        3: "static assertion failed: Not supported",
        7: "use of undeclared identifier 'TFOO'",
        9: "call to deleted copy constructor",
    }
    assert failing_kernels("/t/host/expand_on_host.cpp:3:1: error: boom") == {-1: "boom"}


def test_bf16_flags_give_ptoisa_a_real_bfloat16(tmp_path) -> None:
    """With ``bf16_flags`` and the shim, PTO-ISA's ``bfloat16_t`` is bfloat16 (1.0 is 0x3f80,
    not _Float16's 0x3c00) and its arithmetic rounds to bfloat16 (1 + 2^-8 is 1)."""
    from ptoisa_env import ptoisa_root as test_root
    from ptoisa_env import skip_reason

    if skip_reason() is not None:
        pytest.skip(str(skip_reason()))
    tc = ptoisa_root.ptoisa_toolchain(test_root())
    shim = tmp_path / "shim"
    ptoisa_root.write_bf16_shim(shim)
    src = tmp_path / "bf16.cpp"
    src.write_text(
        "#include <cstdio>\n#include <cstring>\n#include <pto/pto-inst.hpp>\n"
        "int main() { bfloat16_t one = (bfloat16_t)1.0f, e = (bfloat16_t)0.00390625f;\n"
        "  bfloat16_t s = one + e; unsigned short a, b; std::memcpy(&a, &one, 2);\n"
        '  std::memcpy(&b, &s, 2); std::printf("%zu %04x %04x\\n", sizeof one, a, b); }\n'
    )
    exe = tmp_path / "bf16"
    cmd = [tc.cxx, *tc.cpu_sim_flags(), *tc.bf16_flags(shim), str(src), "-o", str(exe)]
    subprocess.run([*cmd, *tc.bf16_link_args()], check=True, capture_output=True, text=True)
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    assert out.split() == ["2", "3f80", "3f80"]
