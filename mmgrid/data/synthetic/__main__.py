"""``python -m mmgrid.data.synthetic --domain D --out DIR``: one synthetic domain's files."""

from mmgrid.data.synthetic.generator import main

main()
