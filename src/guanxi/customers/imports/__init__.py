"""Customer import (客户导入): reading files, mapping columns, dry run, batched commit, revert.

`service` holds the commands; `readers` and `mapping` are the pure parts they use.
"""
