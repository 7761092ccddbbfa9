-- Driven by tests/editors/test_neovim.py: headless Neovim, its built-in LSP client, the real
-- `kvmlock serve`, started through editors/neovim (require('kvmlock').setup, which reads
-- lsp/kvmlock.lua). Writes what it saw as JSON to $KVMLOCK_NVIM_REPORT; the Python side asserts.
local report = { nvim = tostring(vim.version().major) .. '.' .. vim.version().minor .. '.' .. vim.version().patch }

local function wait(ms, cond)
  return vim.wait(ms, cond, 20)
end

local function hover_text(result)
  if type(result) ~= 'table' or result.contents == nil then
    return nil
  end
  local c = result.contents
  if type(c) == 'string' then
    return c
  end
  if c.value then
    return c.value
  end
  local parts = {}
  for _, item in ipairs(c) do
    table.insert(parts, type(item) == 'string' and item or item.value)
  end
  return table.concat(parts, '\n')
end

local ok, err = pcall(function()
  vim.opt.runtimepath:prepend(os.getenv('KVMLOCK_NVIM_PLUGIN'))
  local kvmlock = require('kvmlock')
  local config = kvmlock.setup({
    cmd = { os.getenv('KVMLOCK'), 'serve', '--log-level', 'debug' },
    settings = { kvmlock = { debounceMs = 50 } },
  })
  report.init_options = config.init_options

  vim.cmd('edit ' .. vim.fn.fnameescape(os.getenv('KVMLOCK_C_FILE')))
  local bufnr = vim.api.nvim_get_current_buf()
  report.filetype = vim.bo[bufnr].filetype

  report.diagnostics_arrived = wait(60000, function()
    return #vim.diagnostic.get(bufnr) >= 2
  end)
  report.diagnostics = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    local lsp = d.user_data and d.user_data.lsp or {}
    table.insert(report.diagnostics, {
      lnum = d.lnum,
      col = d.col,
      code = d.code or lsp.code,
      source = d.source,
      severity = d.severity,
      message = d.message,
    })
  end

  local clients = vim.lsp.buf_get_clients(bufnr)
  for _, client in pairs(clients) do
    if client.name == 'kvmlock' then
      report.client_name = client.name
      report.root_dir = client.config.root_dir
      report.cmd = client.config.cmd
    end
  end

  -- Hover over `kvm->lock` in `mutex_lock(&kvm->lock);`.
  local lines = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
  for i, line in ipairs(lines) do
    local col = line:find('mutex_lock(&kvm->lock);', 1, true)
    if col then
      report.hover_position = { line = i - 1, character = col - 1 + #'mutex_lock(&' + 2 }
      break
    end
  end
  local params = { textDocument = { uri = vim.uri_from_bufnr(bufnr) }, position = report.hover_position }
  local results = vim.lsp.buf_request_sync(bufnr, 'textDocument/hover', params, 20000) or {}
  for _, r in pairs(results) do
    report.hover = report.hover or hover_text(r.result)
    report.hover_error = report.hover_error or (r.err and r.err.message)
  end

  wait(10000, function()
    return vim.g.kvmlock_status ~= nil
  end)
  report.status = vim.g.kvmlock_status

  local done = false
  kvmlock.execute('kvmlock.lockingRstLocation', function(result)
    report.location = result
    done = true
  end)
  wait(20000, function()
    return done
  end)

  vim.cmd('KvmlockRuleBase')
  wait(20000, function()
    return vim.bo.filetype == 'markdown'
  end)
  report.rule_base_filetype = vim.bo.filetype
  report.rule_base = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n')
end)

if not ok then
  report.error = tostring(err)
end
local file = io.open(os.getenv('KVMLOCK_NVIM_REPORT'), 'w')
file:write(vim.fn.json_encode(report))
file:close()
vim.cmd('qall!')
