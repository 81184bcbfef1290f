// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

import {ReputationToken} from "../src/ReputationToken.sol";
import {IReputationToken} from "../src/interfaces/IReputationToken.sol";

contract ReputationTokenTest is Test {
    ReputationToken internal rep;
    address internal minter = makeAddr("market");
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");

    function setUp() public {
        rep = new ReputationToken(minter);
    }

    function _mint(address account, uint256 amount) internal {
        address[] memory accounts = new address[](1);
        accounts[0] = account;
        vm.prank(minter);
        rep.mintBatch(accounts, amount);
    }

    // ------------------------------------------------------------ constructor

    function test_constructor_fixesMinterAndMetadata() public view {
        assertEq(rep.minter(), minter);
        assertEq(rep.name(), "CrypDoc Reputation");
        assertEq(rep.symbol(), "CDREP");
        assertEq(rep.decimals(), 0);
        assertEq(rep.totalSupply(), 0);
    }

    function test_constructor_revertsWhen_zeroMinter() public {
        vm.expectRevert(IReputationToken.ZeroAccount.selector);
        new ReputationToken(address(0));
    }

    /// @dev Issue 10, finding 5: there is no role to revoke and no way to change the minter, so the
    /// old attack (the reputation admin revoking the market's MINTER_ROLE) has no entry point.
    function test_constructor_noAdminCanTakeMintingAway() public {
        // None of AccessControl's entry points exist on the token any more.
        bytes[4] memory calls = [
            abi.encodeWithSignature("revokeRole(bytes32,address)", keccak256("MINTER_ROLE"), minter),
            abi.encodeWithSignature("grantRole(bytes32,address)", keccak256("MINTER_ROLE"), alice),
            abi.encodeWithSignature("renounceRole(bytes32,address)", keccak256("MINTER_ROLE"), minter),
            abi.encodeWithSignature("burn(address,uint256)", alice, 1)
        ];
        for (uint256 i; i < calls.length; ++i) {
            vm.prank(minter);
            (bool ok,) = address(rep).call(calls[i]);
            assertFalse(ok, "an admin entry point exists");
        }
        assertEq(rep.minter(), minter);
        _mint(alice, 1);
        assertEq(rep.balanceOf(alice), 1);
    }

    // -------------------------------------------------------------- mintBatch

    function test_mintBatch_addsToEachAndEmits() public {
        address[] memory accounts = new address[](2);
        (accounts[0], accounts[1]) = (alice, bob);
        vm.expectEmit(address(rep));
        emit IReputationToken.Transfer(address(0), alice, 3);
        vm.expectEmit(address(rep));
        emit IReputationToken.Transfer(address(0), bob, 3);
        vm.prank(minter);
        rep.mintBatch(accounts, 3);
        assertEq(rep.balanceOf(alice), 3);
        assertEq(rep.balanceOf(bob), 3);
        assertEq(rep.totalSupply(), 6);
    }

    function test_mintBatch_sameAccountTwiceCountsTwice() public {
        address[] memory accounts = new address[](2);
        (accounts[0], accounts[1]) = (alice, alice);
        vm.prank(minter);
        rep.mintBatch(accounts, 2);
        assertEq(rep.balanceOf(alice), 4);
        assertEq(rep.totalSupply(), 4);
    }

    function test_mintBatch_emptyIsNoop() public {
        vm.prank(minter);
        rep.mintBatch(new address[](0), 3);
        assertEq(rep.totalSupply(), 0);
    }

    function test_mintBatch_revertsWhen_notMinter() public {
        address[] memory accounts = new address[](1);
        accounts[0] = alice;
        vm.expectRevert(abi.encodeWithSelector(IReputationToken.NotMinter.selector, alice));
        vm.prank(alice);
        rep.mintBatch(accounts, 1);
    }

    function test_mintBatch_revertsWhen_zeroAccount() public {
        address[] memory accounts = new address[](2);
        accounts[0] = alice;
        vm.expectRevert(IReputationToken.ZeroAccount.selector);
        vm.prank(minter);
        rep.mintBatch(accounts, 1);
    }

    function testFuzz_mintBatch_onlyMinter(address caller) public {
        vm.assume(caller != minter);
        address[] memory accounts = new address[](1);
        accounts[0] = alice;
        vm.expectRevert(abi.encodeWithSelector(IReputationToken.NotMinter.selector, caller));
        vm.prank(caller);
        rep.mintBatch(accounts, 1);
    }

    function testFuzz_mintBatch_supplyTracksBalances(uint96 a, uint96 b) public {
        _mint(alice, a);
        _mint(bob, b);
        assertEq(rep.totalSupply(), uint256(a) + b);
        assertEq(rep.balanceOf(alice) + rep.balanceOf(bob), rep.totalSupply());
    }

    // ------------------------------------------------------ non-transferable

    function test_transfer_revertsWhen_called() public {
        _mint(alice, 5);
        vm.expectRevert(IReputationToken.ReputationNonTransferable.selector);
        vm.prank(alice);
        // forge-lint: disable-next-line(erc20-unchecked-transfer)
        rep.transfer(bob, 1);
        assertEq(rep.balanceOf(alice), 5);
        assertEq(rep.balanceOf(bob), 0);
    }

    function test_transferFrom_revertsWhen_called() public {
        _mint(alice, 5);
        vm.expectRevert(IReputationToken.ReputationNonTransferable.selector);
        vm.prank(bob);
        // forge-lint: disable-next-line(erc20-unchecked-transfer)
        rep.transferFrom(alice, bob, 1);
    }

    function test_transferFrom_revertsWhen_minterCalls() public {
        _mint(alice, 5);
        vm.expectRevert(IReputationToken.ReputationNonTransferable.selector);
        vm.prank(minter);
        // forge-lint: disable-next-line(erc20-unchecked-transfer)
        rep.transferFrom(alice, bob, 1);
    }

    function test_approve_revertsWhen_called() public {
        vm.expectRevert(IReputationToken.ReputationNonTransferable.selector);
        vm.prank(alice);
        rep.approve(bob, 1);
        assertEq(rep.allowance(alice, bob), 0);
    }

    function testFuzz_transfer_alwaysReverts(address from, address to, uint256 amount) public {
        _mint(alice, 10);
        vm.startPrank(from);
        vm.expectRevert(IReputationToken.ReputationNonTransferable.selector);
        // forge-lint: disable-next-line(erc20-unchecked-transfer)
        rep.transfer(to, amount);
        vm.expectRevert(IReputationToken.ReputationNonTransferable.selector);
        // forge-lint: disable-next-line(erc20-unchecked-transfer)
        rep.transferFrom(alice, to, amount);
        vm.expectRevert(IReputationToken.ReputationNonTransferable.selector);
        rep.approve(to, amount);
        vm.stopPrank();
        assertEq(rep.allowance(alice, to), 0);
        assertEq(rep.balanceOf(alice), 10);
    }
}
