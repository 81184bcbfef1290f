// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title TestStablecoin
/// @notice A 6-decimal dollar-like token for the local dev chain only; its owner mints freely.
contract TestStablecoin is ERC20, Ownable {
    /// @param owner_ The account allowed to mint.
    constructor(address owner_) ERC20("CrypDoc Test USD", "tUSD") Ownable(owner_) {}

    /// @notice Six decimals, like the dollar stablecoins hospitals would pay in.
    function decimals() public pure override returns (uint8) {
        return 6;
    }

    /// @notice Mints `amount` to `to`. Only the owner.
    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }
}
