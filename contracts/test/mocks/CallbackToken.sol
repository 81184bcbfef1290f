// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice Called by {CallbackToken} before it moves any balance.
interface ITransferHook {
    function onTokenTransfer(address from, address to, uint256 amount) external;
}

/// @notice A 6-decimal token that calls a hook before every transfer (as ERC-777 and some
/// "ERC-20 with callbacks" do), so that the hook can re-enter whoever is moving tokens.
contract CallbackToken is ERC20 {
    ITransferHook public hook;

    constructor() ERC20("Callback USD", "cbUSD") {}

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Test-only: anyone may set the hook (zero: none).
    function setHook(ITransferHook hook_) external {
        hook = hook_;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && to != address(0) && address(hook) != address(0)) {
            hook.onTokenTransfer(from, to, value);
        }
        super._update(from, to, value);
    }
}
