#!/bin/sh
# The C sources follow .clang-format (STYLE.md: checked in CI).
# Lists the files that clang-format would change, and fails if any.
cd "${LV_SOURCE_ROOT:?}" || exit 1
command -v clang-format >/dev/null || { echo "SKIP: clang-format is not installed"; exit 77; }
if [ -d .git ] && command -v git >/dev/null; then
    files=$(git ls-files '*.c' '*.h')
else
    files=$(find . -path './build*' -prune -o \( -name '*.c' -o -name '*.h' \) -print)
fi
bad=""
for f in $files; do
    clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad="$bad $f"
done
if [ -n "$bad" ]; then
    echo "not formatted as .clang-format says (run: clang-format -i FILE):"
    for f in $bad; do echo "  $f"; done
    exit 1
fi
echo "all $(echo "$files" | wc -w) C files formatted"
