-- kvmlock language server configuration for Neovim's built-in LSP client.
--
-- Neovim >= 0.11: put this directory on 'runtimepath' (or copy this file to
-- ~/.config/nvim/lsp/kvmlock.lua) and call vim.lsp.enable('kvmlock'). Override anything
-- with vim.lsp.config('kvmlock', { ... }). Older Neovim: require('kvmlock').setup() (see
-- lua/kvmlock/init.lua), which reads this same table. Written in Lua that Neovim 0.7 runs.

local uv = vim.uv or vim.loop

local function is_file(path)
  local stat = uv.fs_stat(path)
  return stat ~= nil and stat.type == 'file'
end

local function exists(path)
  return uv.fs_stat(path) ~= nil
end

local function parent(dir)
  local up = dir:match('^(.*)/[^/]*$')
  if up == nil or up == '' then
    return '/'
  end
  return up
end

--- The kernel tree holding `path`: the nearest directory above it with
--- Documentation/virt/kvm/locking.rst, else the nearest with .git, else the file's directory.
local function find_root(path)
  if path == nil or path == '' then
    return nil
  end
  local stat = uv.fs_stat(path)
  local start = (stat and stat.type == 'directory') and path or parent(path)
  local dir = start
  while true do
    if is_file(dir .. '/Documentation/virt/kvm/locking.rst') then
      return dir
    end
    if dir == '/' then
      break
    end
    dir = parent(dir)
  end
  dir = start
  while true do
    if exists(dir .. '/.git') then
      return dir
    end
    if dir == '/' then
      break
    end
    dir = parent(dir)
  end
  return start
end

--- `kvmlock/status` (docs/lsp-protocol.md): kept for statuslines as vim.g.kvmlock_status
--- ({state, rulesSource, builtin}); fires `User KvmlockStatus`.
local function on_status(_, result)
  if type(result) ~= 'table' then
    return
  end
  vim.g.kvmlock_status = result
  pcall(vim.api.nvim_exec_autocmds, 'User', { pattern = 'KvmlockStatus', modeline = false })
end

-- The server's settings (docs/lsp-protocol.md, "Settings"), with the server's defaults; sent
-- as initializationOptions and answered to workspace/configuration for section "kvmlock".
-- A user's settings = { kvmlock = { ... } } is merged over this table key by key, so a key
-- the server learns later passes through without a change here.
local settings = {
  lockingRst = '',
  checks = vim.empty_dict and vim.empty_dict() or {},
  debounceMs = 150,
  inlayHints = false,
  logLevel = 'info',
  interprocedural = true,
  indexMaxFiles = 3000,
  maxFileBytes = 3000000,
}

return {
  name = 'kvmlock',
  cmd = { 'kvmlock', 'serve' },
  filetypes = { 'c', 'rst' },
  -- Neovim 0.11 style markers, for reference and for nvim-lspconfig's root_pattern; root_dir
  -- below wins (a marker with a "/" is not a plain file name).
  root_markers = { 'Documentation/virt/kvm/locking.rst', '.git' },
  root_dir = function(bufnr, on_dir)
    local name = vim.api.nvim_buf_get_name(bufnr)
    -- rst buffers: only a locking.rst feeds the server (its edits change the rules).
    if vim.bo[bufnr].filetype == 'rst' and not name:match('locking%.rst$') then
      return
    end
    local root = find_root(name)
    if root then
      on_dir(root)
    end
  end,
  init_options = settings,
  settings = { kvmlock = settings },
  handlers = {
    ['kvmlock/status'] = on_status,
  },
}
