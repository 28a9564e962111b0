"""``backends.source_tokens``: the user's paths in emitted C++ become numbered tokens (in order
of first appearance, the same for a copy of the script in another folder), a kernel's own C++
and paths the emitter would escape are left as written, and ``expand`` gives the paths back."""

from __future__ import annotations

from pto_wsp.backends.source_tokens import TOKEN, expand, tokenise


def emitted(folder: str) -> list[tuple[str, str]]:
    main = (
        f"// kernel k defined at {folder}/model.py:12\n"
        f'static const pto_abi_site pto_site_0 = {{"k", "{folder}/model.py:12"}};\n'
        f'  return pto_abi_fail(R, "loop i at {folder}/lib/tiles.py:3" " (task #%llu): ");\n'
        f"  {{  // task @k {folder}/model.py:20\n"
    )
    kernel = (
        '#line 1 "cpp_src of kernel k"\n'
        f'const char* where = "{folder}/model.py:1";  // the user\'s own C++: as written\n'
        '#line 1 "glue of kernel k"\n'
        f"// {folder}/model.py:12\n"
    )
    return [("program.cpp", main), ("kernel_0_k.cpp", kernel)]


def test_paths_become_tokens_in_order_of_first_appearance() -> None:
    a = tokenise(emitted("/home/me/sweep/001-1"), {"/home/me/sweep/001-1/model.py", "/home/me/sweep/001-1/lib/tiles.py"})  # fmt: skip
    b = tokenise(emitted("/tmp/other/002-2"), {"/tmp/other/002-2/lib/tiles.py", "/tmp/other/002-2/model.py"})  # fmt: skip
    assert a.files[0] == b.files[0]  # the same text whatever the folder: one cache key
    assert a.sources == ("/home/me/sweep/001-1/model.py", "/home/me/sweep/001-1/lib/tiles.py")
    main = a.files[0][1]
    assert "/home/me" not in main
    assert f'{{"k", "{TOKEN}0>:12"}}' in main and f"loop i at {TOKEN}1>:3" in main
    kernel = a.files[1][1]
    assert '"/home/me/sweep/001-1/model.py:1"' in kernel  # inside cpp_src: untouched
    assert f"// {TOKEN}0>:12" in kernel  # after it, the glue again
    assert expand(main, a.sources) == emitted("/home/me/sweep/001-1")[0][1]


def test_only_whole_paths_followed_by_a_line_are_replaced() -> None:
    files = [("p.cpp", "// /x/model.py:4 /y/x/model.py:5 /x/model.py.bak /x/model.py:z\n")]
    out = tokenise(files, {"/x/model.py"})
    assert out.files[0][1] == f"// {TOKEN}0>:4 /y/x/model.py:5 /x/model.py.bak /x/model.py:z\n"


def test_paths_the_emitter_escapes_stay_as_they_are() -> None:
    for path in ('/a "quoted"/m.py', "/a\\b/m.py", "/100%/m.py"):
        files = [("p.cpp", f"// {path}:3\n")]
        out = tokenise(files, {path})
        assert out.files == files and out.sources == ()  # built per folder, still correct


def test_expand_leaves_unknown_tokens() -> None:
    assert expand(f"at {TOKEN}0>:3 and {TOKEN}7>:1", ["/m.py"]) == f"at /m.py:3 and {TOKEN}7>:1"
