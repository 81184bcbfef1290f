// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice A 6-decimal token whose transfer fee can be switched on at any time (as an upgradeable
/// or admin-controlled token's can): it behaves like a plain token when the market checks it at
/// `postTask`, then burns `feeBps` of every later transfer. The market must notice at `claimSeat`.
contract SwitchableFeeToken is ERC20 {
    uint256 public feeBps;

    constructor() ERC20("Switchable Fee USD", "sfUSD") {}

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Test-only: anyone may switch the fee.
    function setFeeBps(uint256 bps) external {
        feeBps = bps;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from == address(0) || to == address(0) || feeBps == 0) {
            super._update(from, to, value);
            return;
        }
        uint256 fee = value * feeBps / 10_000;
        super._update(from, address(0), fee);
        super._update(from, to, value - fee);
    }
}
