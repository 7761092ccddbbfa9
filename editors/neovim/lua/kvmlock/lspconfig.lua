-- nvim-lspconfig before Neovim 0.11: require('kvmlock.lspconfig') registers the `kvmlock`
-- server, then require('lspconfig').kvmlock.setup({}) starts it like any other.
require('kvmlock').register_lspconfig()
return require('lspconfig.configs').kvmlock
