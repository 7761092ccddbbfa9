-- kvmlock for Neovim 0.7 to 0.10 (and a helper for any version): starts `kvmlock serve` for C
-- buffers and locking.rst with the configuration of lsp/kvmlock.lua, and adds commands.
--
--   require('kvmlock').setup({ cmd = { '/path/to/kvmlock', 'serve' }, settings = { ... } })
--
-- Neovim >= 0.11 users do not need setup(): vim.lsp.enable('kvmlock') reads lsp/kvmlock.lua.
-- Both get :KvmlockRuleBase and :KvmlockOpenLockingRst (commands() adds them to 0.11).
local M = {}

--- The table lsp/kvmlock.lua returns (found on 'runtimepath').
function M.base_config()
  local file = vim.api.nvim_get_runtime_file('lsp/kvmlock.lua', false)[1]
  if not file then
    error('kvmlock: lsp/kvmlock.lua is not on runtimepath; add the editors/neovim directory')
  end
  return dofile(file)
end

local function merge(base, opts)
  local config = vim.tbl_deep_extend('force', base, opts or {})
  if opts and opts.settings and opts.settings.kvmlock then
    -- one settings table for both places the server reads them
    config.init_options = vim.tbl_deep_extend('force', base.init_options, opts.settings.kvmlock)
  end
  return config
end

local function client_request(client, method, params, handler, bufnr)
  if vim.fn.has('nvim-0.11') == 1 then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

local function kvmlock_client(bufnr)
  local clients = vim.lsp.get_active_clients and vim.lsp.get_active_clients() or vim.lsp.get_clients()
  for _, client in ipairs(clients) do
    if client.name == 'kvmlock' and (bufnr == nil or vim.lsp.buf_is_attached(bufnr, client.id)) then
      return client
    end
  end
  for _, client in ipairs(clients) do
    if client.name == 'kvmlock' then
      return client
    end
  end
  return nil
end

--- Runs a kvmlock server command for the current buffer; calls back with the result.
function M.execute(command, callback)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = kvmlock_client(bufnr)
  if not client then
    vim.notify('kvmlock: the language server is not running for this buffer', vim.log.levels.WARN)
    return
  end
  local params = { command = command, arguments = { vim.uri_from_bufnr(bufnr) } }
  client_request(client, 'workspace/executeCommand', params, function(err, result)
    if err then
      vim.notify('kvmlock: ' .. command .. ': ' .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
      return
    end
    callback(result)
  end, bufnr)
end

function M.show_rule_base()
  M.execute('kvmlock.showRuleBase', function(text)
    vim.cmd('new')
    local buf = vim.api.nvim_get_current_buf()
    vim.api.nvim_buf_set_lines(buf, 0, -1, false, vim.split(tostring(text or ''), '\n', { plain = true }))
    vim.bo[buf].buftype = 'nofile'
    vim.bo[buf].bufhidden = 'wipe'
    vim.bo[buf].filetype = 'markdown'
    vim.bo[buf].modifiable = false
    pcall(vim.api.nvim_buf_set_name, buf, 'kvmlock://rule-base')
  end)
end

function M.open_locking_rst()
  M.execute('kvmlock.lockingRstLocation', function(where)
    if type(where) == 'table' and type(where.uri) == 'string' then
      vim.cmd('edit ' .. vim.fn.fnameescape(vim.uri_to_fname(where.uri)))
    else
      local source = type(where) == 'table' and where.source or 'the built-in rule pack'
      vim.notify('kvmlock uses ' .. tostring(source) .. ': no locking.rst was found above this file', vim.log.levels.INFO)
    end
  end)
end

--- :KvmlockRuleBase, :KvmlockOpenLockingRst, :KvmlockStatus.
function M.commands()
  vim.api.nvim_create_user_command('KvmlockRuleBase', M.show_rule_base, { desc = 'kvmlock: show the rule base' })
  vim.api.nvim_create_user_command('KvmlockOpenLockingRst', M.open_locking_rst, { desc = 'kvmlock: open locking.rst' })
  vim.api.nvim_create_user_command('KvmlockStatus', function()
    local s = vim.g.kvmlock_status
    if type(s) == 'table' then
      print(string.format('kvmlock: %s, rules from %s', s.state, s.rulesSource))
    else
      print('kvmlock: no status from the server yet')
    end
  end, { desc = 'kvmlock: server state and rule source' })
end

local started = {} -- root dir -> client id (Neovim without vim.lsp.start)

--- Starts (or reuses) the kvmlock client for `bufnr` and attaches it. Returns the client id.
function M.start(bufnr, config)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  config = config or M.config
  local root
  config.root_dir(bufnr, function(dir)
    root = dir
  end)
  if not root then
    return nil
  end
  local client_config = vim.tbl_extend('force', {}, config)
  client_config.root_dir = root
  client_config.filetypes = nil
  client_config.root_markers = nil
  client_config.workspace_folders = { { uri = vim.uri_from_fname(root), name = root } }
  if vim.lsp.start then
    return vim.lsp.start(client_config, { bufnr = bufnr })
  end
  local id = started[root]
  if not id or vim.lsp.get_client_by_id(id) == nil then
    id = vim.lsp.start_client(client_config)
    started[root] = id
  end
  if id then
    vim.lsp.buf_attach_client(bufnr, id)
  end
  return id
end

--- For Neovim 0.7 to 0.10: start kvmlock for C buffers and locking.rst. `opts` is merged
--- into lsp/kvmlock.lua's table (cmd, settings = { kvmlock = {...} }, on_attach, ...).
function M.setup(opts)
  M.config = merge(M.base_config(), opts)
  M.commands()
  local group = vim.api.nvim_create_augroup('kvmlock', { clear = true })
  vim.api.nvim_create_autocmd('FileType', {
    group = group,
    pattern = M.config.filetypes,
    callback = function(args)
      M.start(args.buf, M.config)
    end,
  })
  return M.config
end

--- For nvim-lspconfig before Neovim 0.11: registers `kvmlock` with lspconfig, so that
--- require('lspconfig').kvmlock.setup({}) works. (With 0.11, lspconfig reads lsp/kvmlock.lua.)
function M.register_lspconfig()
  local configs = require('lspconfig.configs')
  if configs.kvmlock then
    return
  end
  local base = M.base_config()
  configs.kvmlock = {
    default_config = {
      cmd = base.cmd,
      filetypes = base.filetypes,
      root_dir = function(fname)
        local util = require('lspconfig.util')
        return util.root_pattern('Documentation/virt/kvm/locking.rst')(fname)
          or util.root_pattern('.git')(fname)
          or vim.fn.fnamemodify(fname, ':p:h')
      end,
      init_options = base.init_options,
      settings = base.settings,
      handlers = base.handlers,
      single_file_support = true,
    },
    docs = { description = 'kvmlock: locking mistakes in Linux KVM C code (kvmlock serve)' },
  }
end

return M
