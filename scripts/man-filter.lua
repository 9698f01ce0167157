-- pandoc filter for scripts/gen-man.sh: what a man page shows differently
-- from the Markdown document it is made from.

-- Section headings are upper case, as in every man page.
function Header(header)
  if header.level == 1 then
    return pandoc.walk_block(header, { Str = function(s) return pandoc.Str(s.text:upper()) end })
  end
end

-- A table becomes a definition list: docs/config.md's tables (key | default | meaning) have cells of a
-- paragraph or more, which an 80-column man page cannot show side by side.
-- Each row becomes its first cell as the term, then "HEADER: cell" for the
-- middle cells and the last cell as it is.
local function inlines_of(blocks)
  local out = pandoc.List()
  for _, block in ipairs(blocks) do
    if block.content then
      if #out > 0 then out:insert(pandoc.Space()) end
      out:extend(block.content)
    end
  end
  return out
end

function Table(tbl)
  local simple = pandoc.utils.to_simple_table(tbl)
  local items = pandoc.List()
  for _, row in ipairs(simple.rows) do
    local body = pandoc.List()
    for i = 2, #row do
      local text = inlines_of(row[i])
      if i < #row then
        local label = pandoc.utils.stringify(simple.headers[i]):lower()
        text = pandoc.List({ pandoc.Str(label .. ":"), pandoc.Space() }) .. text
      end
      body:insert(pandoc.Plain(text))
      if i < #row then body:insert(pandoc.Plain({ pandoc.LineBreak() })) end
    end
    items:insert({ inlines_of(row[1]), { body } })
  end
  return pandoc.DefinitionList(items)
end
