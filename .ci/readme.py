"""Write README.md from nbs/index.ipynb: markdown cells as they are, code cells as python blocks (nbdev_readme needs quarto, which this project does not install)."""
import json, pathlib, sys
root = pathlib.Path(__file__).resolve().parent.parent
nb = json.loads((root / 'nbs/index.ipynb').read_text(encoding='utf-8'))
parts = []
for c in nb['cells']:
    src = ''.join(c['source']).strip()
    if not src or src.startswith('#| hide'): continue
    parts.append(src if c['cell_type'] == 'markdown' else f"```python\n{src}\n```")
text = "<!-- generated from nbs/index.ipynb by .ci/readme.py: edit the notebook, not this file -->\n\n" + '\n\n'.join(parts) + '\n'
(root / 'README.md').write_text(text, encoding='utf-8')
